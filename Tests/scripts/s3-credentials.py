"""Makes an IAM user with S3 rights in a moto server started with INITIAL_NO_AUTH_ACTION_COUNT=3
(these three calls are the unsigned ones it allows), prints its access key and secret, and, given
bucket names, creates them signed with that key. From then on moto checks every signature."""
import json
import sys

import boto3

endpoint = sys.argv[1]
if sys.argv[2] == "user":
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="orchestrate")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="orchestrate", PolicyName="backups", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="orchestrate")["AccessKey"]
    print(key["AccessKeyId"], key["SecretAccessKey"])
else:
    key_id, secret = sys.argv[2], sys.argv[3]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key_id, aws_secret_access_key=secret)
    for bucket in sys.argv[4:]:
        s3.create_bucket(Bucket=bucket)
