import { DynamodbTable, type DynamodbTableConfig } from '@cdktf/provider-aws/lib/dynamodb-table';
import type { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import type { Construct } from 'constructs';
import { keyArnOf } from './iam';
import type { Grantee } from './role';

/** Options of {@link EncryptedTable}. */
export interface EncryptedTableOptions extends Omit<DynamodbTableConfig, 'serverSideEncryption'> {
  /** The customer-managed key the table, its stream and its backups are encrypted with. */
  readonly key: KmsKey;
  /** Region of the table, for `kms:ViaService`. */
  readonly region: string;
}

/** DynamoDB actions that write, and so make DynamoDB encrypt with the table key. */
const WRITE_ACTIONS = new Set(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']);

/** What the stream event source mapping reads, with the execution role of its function. */
const STREAM_READ_ACTIONS = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'] as const;

/**
 * A DynamoDB table encrypted with a customer-managed key. Like aws-cdk's
 * `Table.grant*`, it grants access to itself: every table or stream grant also
 * grants the key, conditioned on `kms:ViaService = dynamodb.<region>`, because
 * DynamoDB uses the key with the caller's permissions (AWS KMS developer guide,
 * "How Amazon DynamoDB uses AWS KMS"). A caller therefore cannot forget the key.
 */
export class EncryptedTable {
  readonly table: DynamodbTable;
  readonly key: KmsKey;
  /** The table's name, as configured (a plain string, not a reference: an endpoint policy in another stack names it). */
  readonly name: string;
  readonly #region: string;

  constructor(scope: Construct, id: string, options: EncryptedTableOptions) {
    const { key, region, ...table } = options;
    this.key = key;
    this.name = options.name;
    this.#region = region;
    // Created in the caller's scope, so the Terraform address stays `aws_dynamodb_table.<id>`.
    this.table = new DynamodbTable(scope, id, { ...table, serverSideEncryption: { enabled: true, kmsKeyArn: key.arn } });
  }

  /**
   * Successful requests of one operation on the table (DynamoDB `SuccessfulRequestLatency`, its
   * `SampleCount`: the number of successful requests). A conditional write whose condition fails
   * is not a successful request: it counts in `ConditionalCheckFailedRequests`.
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html
   */
  metricSuccessfulRequests(operation: 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'GetItem'): {
    namespace: string;
    metricName: string;
    dimensions: Record<string, string>;
    statistic: 'SampleCount';
  } {
    return {
      namespace: 'AWS/DynamoDB',
      metricName: 'SuccessfulRequestLatency',
      dimensions: { TableName: this.table.name, Operation: operation },
      statistic: 'SampleCount',
    };
  }

  /** Grants item actions on the table (and the key: decrypt, plus encrypt for writes). */
  grant(grantee: Grantee, sid: string, actions: readonly string[]): void {
    grantee.grant({ Sid: sid, Action: actions, Resource: [this.table.arn] });
    // A grantee in the VPC reaches the table through the gateway endpoint: its policy must let the same through.
    grantee.dynamodbPath?.allowTableAccess(this.name, actions);
    this.#grantKey(
      grantee,
      sid,
      actions.some((action) => WRITE_ACTIONS.has(action)),
    );
  }

  /** Grants what a stream event source mapping needs to read the table's stream (and the key). */
  grantStreamRead(grantee: Grantee, sid: string): void {
    grantee.grant({ Sid: sid, Action: [...STREAM_READ_ACTIONS], Resource: [this.table.streamArn] });
    grantee.grant({ Sid: `${sid}List`, Action: ['dynamodb:ListStreams'], Resource: ['*'] });
    this.#grantKey(grantee, sid, false);
  }

  #grantKey(grantee: Grantee, sid: string, write: boolean): void {
    grantee.grant({
      Sid: `${sid}Key`,
      Action: write ? ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
      Resource: [keyArnOf(this.key)],
      Condition: { StringEquals: { 'kms:ViaService': `dynamodb.${this.#region}.amazonaws.com` } },
    });
  }
}
