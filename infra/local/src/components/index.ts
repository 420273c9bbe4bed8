import { INFRA, type ComponentName } from '../config';
import type { Component, StackContext } from '../context';
import { composeComponent } from './compose';
import { consulComponent } from './consul';
import { k8sSchemasComponent } from './k8s-schemas';
import { kafkaComponent } from './kafka';
import { kubeconformComponent } from './kubeconform';
import { kustomizeComponent } from './kustomize';
import { postgresComponent } from './postgres';
import { prometheusComponent } from './prometheus';
import { redisComponent } from './redis';
import { schemathesisComponent } from './schemathesis';
import { serviceComponent } from './service';
import { toxiproxyComponent } from './toxiproxy';
import { vegetaComponent } from './vegeta';
import { zipkinComponent } from './zipkin';

const factories: Record<ComponentName, (ctx: StackContext) => Component> = {
  postgres: postgresComponent,
  redis: redisComponent,
  consul: consulComponent,
  toxiproxy: toxiproxyComponent,
  kafka: kafkaComponent,
  zipkin: zipkinComponent,
  prometheus: prometheusComponent,
  schemathesis: schemathesisComponent,
  vegeta: vegetaComponent,
  kustomize: kustomizeComponent,
  kubeconform: kubeconformComponent,
  compose: composeComponent,
  'k8s-schemas': k8sSchemasComponent,
  inventory: (ctx) => serviceComponent(ctx, 'inventory', () => infraEnv(ctx)),
  payment: (ctx) => serviceComponent(ctx, 'payment', () => infraEnv(ctx)),
  order: (ctx) => serviceComponent(ctx, 'order', () => infraEnv(ctx)),
  gateway: (ctx) => serviceComponent(ctx, 'gateway', () => infraEnv(ctx)),
};

/** What a service needs to reach the infrastructure: every infrastructure component's client variables. */
export function infraEnv(ctx: StackContext): Record<string, string> {
  return Object.assign({}, ...INFRA.map((name) => factories[name](ctx).exports())) as Record<string, string>;
}

export const createComponent = (ctx: StackContext, name: ComponentName): Component => factories[name](ctx);
