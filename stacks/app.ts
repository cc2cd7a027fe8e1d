import type { App } from 'cdktf';
import type { EnvironmentConfig } from '../config/environments';
import { resourceNames } from '../config/pipeline';
import type { Registry } from '../handlers/registry';
import { ComputeStack } from './compute-stack';
import { DataStack } from './data-stack';
import { MonitoringStack } from './monitoring-stack';
import { NetworkStack } from './network-stack';
import { WorkflowStack } from './workflow-stack';

/** The stacks of one environment. */
export interface PipelineStacks {
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly compute: ComputeStack;
  readonly workflow: WorkflowStack;
  readonly monitoring: MonitoringStack;
}

/** Options of {@link buildPipeline}. */
export interface PipelineOptions {
  /** Where the handler bundles are. @default dist/ */
  readonly distDir?: string;
  /** The commands and queries to deploy. @default the project's registry (a test passes one with extra members) */
  readonly registry?: Registry;
}

/**
 * Builds one environment's stacks, wired through their typed fields (never
 * through names): network → data → compute → workflow → monitoring.
 */
export function buildPipeline(app: App, config: EnvironmentConfig, options: PipelineOptions = {}): PipelineStacks {
  const registry = options.registry ? { registry: options.registry } : {};
  const names = resourceNames(config.environment);
  const network = new NetworkStack(app, `${names.prefix}-network`, { config, names });
  const data = new DataStack(app, `${names.prefix}-data`, {
    config,
    names,
    privateSubnets: network.privateSubnets,
    databaseSecurityGroup: network.databaseSecurityGroup,
  });
  const compute = new ComputeStack(app, `${names.prefix}-compute`, {
    config,
    names,
    privateSubnets: network.privateSubnets,
    lambdaSecurityGroup: network.lambdaSecurityGroup,
    dynamodbEndpoint: network.dynamodbEndpoint,
    key: data.key,
    ordersTable: data.ordersTable,
    idempotencyTable: data.idempotencyTable,
    cluster: data.cluster,
    dbSecret: data.dbSecret,
    roleSecrets: data.roleSecrets,
    ...(options.distDir ? { distDir: options.distDir } : {}),
    ...registry,
  });
  const workflow = new WorkflowStack(app, `${names.prefix}-workflow`, {
    config,
    names,
    key: data.key,
    ordersTable: data.ordersTable,
    validateRequest: compute.validateRequest,
    queryFunctions: compute.queryFunctions,
    projectionFailureQueueUrl: compute.failureQueue.url,
    ...registry,
  });
  const monitoring = new MonitoringStack(app, `${names.prefix}-monitoring`, {
    config,
    names,
    key: data.key,
    watch: [data, compute, workflow],
    cluster: data.cluster,
    projection: compute.projectOrders,
    queryFunctions: [...compute.queryFunctions.values()],
    intakeRule: workflow.workflowRule,
  });
  return { network, data, compute, workflow, monitoring };
}
