/** `pocketkube credential` and `get-token` (kubelogin's drop-in): the ExecCredential kubectl runs, from the agent. */
import { parseArgs } from 'node:util';
import type { CredentialRequest } from '../../shared/api.js';
import { apiVersionFromExecInfo } from '../../core/credential/exec-credential.js';
import { UsageError } from '../../core/platform/errors.js';
import type { AgentClient } from '../../client/agent-client.js';
import { out, parse } from '../io.js';

/** The slow path of the helper (no curl, or Windows): the same request the shell helper makes. */
async function requestCredential(client: AgentClient, req: CredentialRequest): Promise<void> {
  const cred = await client.credential({ ...req, api_version: apiVersionFromExecInfo(process.env.KUBERNETES_EXEC_INFO) });
  out(JSON.stringify(cred));
}

export async function cmdCredential(client: AgentClient, args: string[]): Promise<void> {
  const { values } = parse(args, { provider: { type: 'string' } });
  if (!values.provider) throw new UsageError('credential needs --provider NAME.');
  await requestCredential(client, { provider: values.provider });
}

export async function cmdGetToken(client: AgentClient, args: string[]): Promise<void> {
  // kubelogin has many more flags; the ones that do not matter to PocketKube are accepted and ignored.
  const { values } = parseArgs({
    args,
    options: {
      'oidc-issuer-url': { type: 'string' },
      'oidc-client-id': { type: 'string' },
      'oidc-client-secret': { type: 'string' },
      'oidc-extra-scope': { type: 'string', multiple: true },
    },
    allowPositionals: true,
    strict: false,
  });
  const issuer = values['oidc-issuer-url'];
  const clientId = values['oidc-client-id'];
  if (typeof issuer !== 'string' || typeof clientId !== 'string') throw new UsageError('get-token needs --oidc-issuer-url and --oidc-client-id.');
  await requestCredential(client, {
    issuer,
    client_id: clientId,
    client_secret: typeof values['oidc-client-secret'] === 'string' ? values['oidc-client-secret'] : undefined,
    scope: (values['oidc-extra-scope'] as string[] | undefined) ?? [],
  });
}
