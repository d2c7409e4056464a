/**
 * Talos setup for PocketKube: the machine-config patch that makes kube-apiserver accept Pocket ID tokens, the RBAC
 * binding for a Pocket ID group, `whoami` against a cluster, and the doctor that explains 401s and 403s.
 * No Electron here: the tray app, the CLI and the tests all call these the same way.
 */
export { talosPatch, PATCH_FILE, DEFAULT_ANONYMOUS, AUTHN_CONFIG_API_VERSION, type TalosPatch, type TalosPatchOptions, type TalosShape } from './patch.js';
export { rbacBinding, applyRbac, pocketIdGroupName, MANAGED_BY_LABEL, type RbacBinding, type RbacBindingOptions } from './rbac.js';
export { whoami, loadKubeconfig, KubeRequestError, type WhoAmI, type KubeFailureKind, type LoadedKubeconfig } from './kube.js';
export { doctor, formatChecks, type DoctorCheck, type DoctorOptions, type DoctorProvider } from './doctor.js';
