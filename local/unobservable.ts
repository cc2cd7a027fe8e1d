/**
 * Statements of the synthesized policies that the local runtime cannot see
 * used, each with the reason: AWS needs them, but for work that happens on
 * AWS's side only. The mutation test (`__tests__/integration/iam-mutations`)
 * removes every statement in turn; a removal nothing notices must be listed
 * here, or the statement is unneeded (remove it) or untested (add the test).
 * Keyed by statement Sid, or by `<resource type>#<index>` for statements
 * without one.
 */
export const UNOBSERVABLE_STATEMENTS: Readonly<Record<string, string>> = {
  Tracing: 'X-Ray: the Lambda and Step Functions services send trace segments with the role; there is no X-Ray locally',
  ExecutionLogging: 'Step Functions sets up vended log delivery to CloudWatch Logs with the role when the state machine is created; no log delivery is emulated',
  CloudWatchAlarmsUseTopicKey: 'CloudWatch publishing an alarm to the encrypted SNS topic: there are no alarms locally',
  CloudWatchLogsForPipelineLogGroups:
    "CloudWatch Logs encrypts the pipeline's log groups with the key as logs.<region>.amazonaws.com under kms:EncryptionContext:aws:logs:arn, a condition key the IAM evaluator ignores, so the check would be meaningless",
};
