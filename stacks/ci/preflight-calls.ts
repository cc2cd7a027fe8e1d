/**
 * The AWS CLI calls `npm run preflight` makes (analysis/preflight.ts), with the
 * IAM action each needs: the CI bootstrap grants them to the deploy role, and
 * preflight names the action in its fix when a call is refused. Declared here,
 * on the stacks' side, so the bootstrap stack does not import the analysis.
 */
/** The IAM action each call needs (the deploy role of the CI bootstrap is granted these). */
export const CALL_ACTIONS: Readonly<Record<string, string>> = {
  'lambda get-account-settings': 'lambda:GetAccountSettings',
  'ec2 describe-vpcs': 'ec2:DescribeVpcs',
  'ec2 describe-account-attributes': 'ec2:DescribeAccountAttributes',
  'ec2 describe-addresses': 'ec2:DescribeAddresses',
  'rds describe-account-attributes': 'rds:DescribeAccountAttributes',
};
