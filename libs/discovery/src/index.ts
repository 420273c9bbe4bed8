export { ConsulRegistration, consulClient, type ServiceRegistration } from './registration';
