import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The console is embedded into the Go binary from web/dist (see embed.go).
// dist/.gitkeep is tracked so that `go build` works before the console is
// built, hence emptyOutDir is off and scripts/clean.mjs removes the previous
// build instead.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // `npm run dev` proxies the API to a running `vigil serve`.
    proxy: { '/api': process.env.VIGIL_URL ?? 'http://127.0.0.1:8080' },
  },
});
