// Removes the previous build from dist, keeping dist/.gitkeep (tracked so
// that `go build` can embed dist before the console is built).
import { rmSync } from 'node:fs';

rmSync(new URL('../dist/assets', import.meta.url), { recursive: true, force: true });
rmSync(new URL('../dist/index.html', import.meta.url), { force: true });
