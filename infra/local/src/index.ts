// What other tooling (the failure lab, the load tests) may use of the local stack: its context, process
// control and config, and the running system they drive.
export { withoutUserStack } from './commands/test';
export { createComponent } from './components';
export { COMPONENTS, DEPLOY_TOOLS, SERVICES, type ComponentName, type ServiceName } from './config';
export { logFile, type StackContext } from './context';
export { StackError } from './errors';
export { isAlive, spawnDaemon, waitFor } from './proc';
export type { Reporter } from './progress';
export { readSecrets } from './secrets';
export { createContext, runningPid, stopAll, up } from './stack';
export { System, type Databases, type ServiceEnv } from './system';
export { loadVersions, type Versions } from './versions';
export { LINKS, closeLink, openLink, proxyName, toxiproxy, type LinkName, type ProxiedLink } from './links';
// What the image builds (infra/deploy) reuse: the provisioning helpers.
export { aptInstall, goBinaryPath } from './components/toolchain';
export { provisionLog } from './context';
export { run } from './proc';
