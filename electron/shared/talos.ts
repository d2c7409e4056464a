/**
 * What the Talos setup steps produce, as data the CLI prints and the window shows: the machine-config patch,
 * the RBAC binding, `whoami`, and the doctor's checks. Types only; the steps are in core/talos.
 */
import type { V1ClusterRoleBinding } from '@kubernetes/client-node';

export type TalosShape = 'legacy' | 'multidoc';

export interface TalosPatch {
  shape: TalosShape;
  shapeReason: string;
  patchYaml: string;
  command: string;
  notes: string[];
}

export interface RbacBinding {
  yaml: string;
  object: V1ClusterRoleBinding;
  notes: string[];
}

export interface WhoAmI {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface DoctorCheck {
  id: string;
  title: string;
  ok: boolean | 'skipped';
  detail: string;
  fix?: string;
}
