export { AppError, type AppErrorOptions } from './app-error';
export { isRetriable } from './retriable';
