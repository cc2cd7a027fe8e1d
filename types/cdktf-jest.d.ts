// Brings cdktf's jest matcher types (toHaveResourceWithProperties, ...) into scope.
import 'cdktf/lib/testing/adapters/jest';
