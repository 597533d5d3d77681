// Shapes of the registry answers (internal/httpapi/openapi/registry.yaml),
// snake_case as sent.

export interface LatLon {
  lat: number;
  lon: number;
}

export const cameraTypes = ['fixed', 'ptz', 'dome', 'panoramic', 'mobile', 'body_worn'] as const;
export const cameraStates = ['registered', 'admitted', 'online', 'offline', 'deregistered'] as const;
export const fundings = ['government', 'private'] as const;
export const recordingModes = ['continuous', 'on_demand', 'off'] as const;
/** How the recorder asks a camera for RTP (MED-1). */
export const transports = ['auto', 'tcp', 'udp', 'multicast'] as const;
export const zoneKinds = ['military', 'classified', 'other'] as const;
export const filingStates = ['submitted', 'accepted', 'returned'] as const;
export const filingKinds = ['initial', 'change', 'cancellation'] as const;
export const dueStatuses = ['missing', 'returned', 'pending', 'no_date'] as const;
export const attachmentKinds = ['design', 'construction', 'inspection', 'acceptance', 'maintenance', 'other'] as const;

/** The editable part of a camera's file (一机一档, REG-1); WGS-84 coordinates. */
export interface CameraFile {
  code: string;
  unit_id: string;
  name: string;
  vendor?: string;
  model?: string;
  firmware?: string;
  type?: string;
  lat?: number;
  lon?: number;
  address?: string;
  division?: string;
  height?: number;
  azimuth?: number | null;
  fov?: number;
  range?: number;
  place_type?: string;
  site_id?: string;
  system_id?: string;
  building_unit?: string;
  operating_unit?: string;
  contact_name?: string;
  contact_phone?: string;
  funding?: string;
  commissioned_on?: string;
  accepted_on?: string;
  public?: boolean;
  signage?: boolean;
  extended?: Record<string, string>;
  recording_mode?: string;
}

export interface Camera extends CameraFile {
  id: string;
  unit_name?: string;
  gcj02?: LatLon;
  filing_state?: string;
  state: string;
  enabled?: boolean;
  has_source?: boolean;
  transport?: string;
  completeness: number;
  missing?: string[];
  signage_missing?: boolean;
  created_at?: string;
  updated_at?: string;
}

export interface CameraChange {
  at: string;
  actor_id?: string;
  actor_name?: string;
  action: string;
  field?: string;
  old?: string;
  new?: string;
}

export interface ImportProblem {
  line: number;
  column: string;
  cell?: string;
  code: string;
  message: string;
}

export interface ImportReport {
  dry_run: boolean;
  rows: number;
  valid: number;
  imported: number;
  sha256?: string;
  problems?: ImportProblem[];
}

export interface Site {
  id: string;
  unit_id: string;
  unit_name?: string;
  name: string;
  category: string;
  anti_terror?: boolean;
  security_key?: boolean;
  public?: boolean;
  address?: string;
  mandated?: boolean;
  min_retention_days?: number;
  retention_cite?: string[];
}

export interface Zone {
  id: string;
  name: string;
  kind: string;
  polygon: number[][];
  created_at?: string;
}

export interface Attachment {
  id: string;
  system_id: string;
  kind: string;
  name: string;
  size: number;
  content_type: string;
  created_at?: string;
}

export interface Filing {
  id: string;
  system_id: string;
  unit_id: string;
  kind: string;
  state: string;
  content?: {
    unit_name?: string;
    system_name?: string;
    locations?: string[];
    camera_count?: number;
    camera_types?: Record<string, number>;
    retention_days?: number;
    attachments?: string[];
    in_use_on?: string;
    note?: string;
  };
  submitted_at?: string;
  submitted_by?: string;
  reviewed_at?: string;
  reviewed_by?: string;
  reason?: string;
}

export interface System {
  id: string;
  unit_id: string;
  unit_name?: string;
  name: string;
  in_use_on?: string;
  accepted_on?: string;
  retention_days?: number;
  cancelled?: boolean;
  camera_count?: number;
  attachments?: Attachment[];
  filings?: Filing[];
}

export interface FilingDue {
  system_id: string;
  system_name: string;
  unit_id: string;
  unit_name: string;
  status: string;
  trigger_on?: string;
  due_on?: string;
  overdue: boolean;
  days_overdue?: number;
  cite?: string[];
}

export interface Overlap {
  share: number;
  flagged: boolean;
  threshold: number;
  candidates: number;
  method?: string;
  error_bound?: number;
  cameras?: Array<{ id: string; share: number }>;
}

/** A camera's ingest state (GET /ingest, MED-1). */
export interface Ingest {
  camera_id: string;
  state: 'idle' | 'connecting' | 'streaming' | 'failing';
  since?: string;
  transport?: string;
  last_error?: string;
  last_error_at?: string;
  last_event?: string;
  last_event_at?: string;
  counters?: Record<string, number>;
}
