import type { ComponentName } from '../config';
import type { Component, StackContext } from '../context';
import { consulComponent } from './consul';
import { k6Component } from './k6';
import { kafkaComponent } from './kafka';
import { postgresComponent } from './postgres';
import { redisComponent } from './redis';
import { toxiproxyComponent } from './toxiproxy';
import { zipkinComponent } from './zipkin';

const factories: Record<ComponentName, (ctx: StackContext) => Component> = {
  postgres: postgresComponent,
  redis: redisComponent,
  consul: consulComponent,
  toxiproxy: toxiproxyComponent,
  kafka: kafkaComponent,
  zipkin: zipkinComponent,
  k6: k6Component,
};

export const createComponent = (ctx: StackContext, name: ComponentName): Component => factories[name](ctx);
