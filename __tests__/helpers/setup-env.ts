// Tests never reach AWS: a region and dummy credentials keep SDK clients from
// looking for real ones, and Powertools logs stay quiet unless asked for.
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'OrderPipeline/test';
// Metrics (embedded metric format lines on stdout) are off in tests; the one test of them turns them on.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
