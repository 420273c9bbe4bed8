export { ServiceClient, type CallOutcome, type ServiceRequest, type ServiceResponse } from './client';
export { ConsulDirectory, StaticDirectory, type Instance, type ServiceDirectory } from './directory';
export { ConsulRegistration, consulClient, type ServiceRegistration } from './registration';
