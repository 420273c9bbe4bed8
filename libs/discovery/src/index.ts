export { ConsulDirectory, StaticDirectory, type Instance, type ServiceDirectory } from './directory';
export { ConsulRegistration, consulClient, type ServiceRegistration } from './registration';
