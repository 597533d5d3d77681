// Shapes of the /api/v1 answers the console reads (snake_case, as sent).

export interface User {
  id: string;
  username: string;
  name: string;
  unit_id: string;
  unit_name?: string;
  post?: string;
  phone?: string;
  id_number_masked?: string;
  status?: string;
  standing_purpose?: string;
  totp_enabled?: boolean;
  password_expired?: boolean;
}

export interface Grant {
  id?: string;
  role?: string;
  role_id?: string;
  role_name?: string;
  permissions?: string[];
  scope_unit_id: string;
  scope_unit_name?: string;
  scope_path?: string;
}

export interface Session {
  user: User;
  permissions?: string[];
  grants?: Grant[];
  csrf: string;
  must_change_password?: boolean;
}

export interface Unit {
  id: string;
  parent_id?: string | null;
  name: string;
  kind: string;
  division?: string;
  contact?: string;
  phone?: string;
  path?: string;
}

export interface Role {
  id: string;
  name: string;
  description?: string;
  permissions: string[];
  builtin?: boolean;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: { id: string; name: string; unit?: string; remote?: string };
  action: string;
  object: string;
  outcome: string;
  details?: Record<string, unknown>;
  hash?: string;
}

export interface VerifyReport {
  ok: boolean;
  checked: number;
  head_seq?: number;
  checkpoint?: number;
  problem?: { seq: number; kind: string; detail: string };
}

export interface Obligation {
  kind: string;
  value?: string;
  cite?: string[];
}

export interface AccessRecord {
  id: string;
  at: string;
  user_id?: string;
  user_name: string;
  unit_name: string;
  action: string;
  method: string;
  cameras: Array<{ id: string; name?: string } | string>;
  range_start?: string | null;
  range_end?: string | null;
  purpose: string;
  decision: string;
  obligations?: Obligation[];
}

export const permissions = [
  'admin.units', 'admin.users', 'admin.roles', 'admin.system', 'audit.read', 'access.read',
  'camera.admin', 'camera.live', 'camera.playback', 'camera.export', 'camera.ptz', 'tokens.own',
] as const;

export const unitKinds = ['police', 'state_security', 'admin_department', 'building_unit', 'operator'] as const;
