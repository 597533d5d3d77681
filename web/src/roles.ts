// Labels of roles: built-in roles have translated names and descriptions,
// custom roles show what their creator typed.
import type { I18n } from './i18n';
import type { Role } from './types';

export function roleName(tk: I18n['tk'], r: Pick<Role, 'name' | 'builtin'>): string {
  return r.builtin ? tk(`roleName.${r.name}`, r.name) : r.name;
}

export function roleDescription(tk: I18n['tk'], r: Pick<Role, 'name' | 'builtin' | 'description'>): string {
  return r.builtin ? tk(`roleDesc.${r.name}`, r.description ?? '') : r.description ?? '';
}
