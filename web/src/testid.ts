// data-testid for props objects that TypeScript does not let carry data-*
// attributes (okButtonProps and the like). The browser test (internal/e2e)
// finds elements by these ids.
export function tid<T>(id: string): T {
  return { 'data-testid': id } as T;
}
