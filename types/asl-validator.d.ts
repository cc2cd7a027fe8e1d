declare module 'asl-validator' {
  /** Options of asl-validator 4. */
  interface ValidationOptions {
    checkPaths?: boolean;
    checkArn?: boolean;
  }
  interface ValidationResult {
    isValid: boolean;
    errors: unknown[];
    errorsText(separator?: string): string;
  }
  function validator(definition: unknown, options?: ValidationOptions): ValidationResult;
  export default validator;
}
