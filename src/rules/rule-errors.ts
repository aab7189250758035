// Errors raised while compiling a rule document. The compiler throws them with a YAML path; the
// loader turns them into RuleLoadError records carrying file, line and rule id/name.
export type RuleErrorCode =
  | 'RULE_YAML_SYNTAX'
  | 'RULE_INVALID'
  | 'RULE_MISSING_DETECTION'
  | 'RULE_MISSING_CONDITION'
  | 'RULE_BAD_CONDITION'
  | 'RULE_UNKNOWN_SELECTION'
  | 'RULE_UNKNOWN_MODIFIER'
  | 'RULE_UNSUPPORTED_MODIFIER'
  | 'RULE_BAD_MODIFIER'
  | 'RULE_BAD_VALUE'
  | 'RULE_UNSAFE_REGEX'
  | 'RULE_BAD_REGEX'
  | 'RULE_BAD_CIDR'
  | 'RULE_DUPLICATE_ID'
  | 'RULE_UNKNOWN_REFERENCE'
  | 'RULE_CORRELATION_CYCLE'
  | 'RULE_BAD_CORRELATION'
  | 'RULE_BAD_DURATION'
  | 'RULE_BAD_EXTENSION'
  | 'RULE_BAD_FILTER';

export type RuleWarningCode =
  | 'RULE_MISSING_TITLE'
  | 'RULE_MISSING_DESCRIPTION'
  | 'RULE_MISSING_LEVEL'
  | 'RULE_MISSING_ID'
  | 'RULE_UNKNOWN_FIELD'
  | 'RULE_UNKNOWN_STATUS'
  | 'RULE_EXPERIMENTAL_SKIPPED'
  | 'RULE_EMPTY_FILE';

/** A compile failure at a YAML path (keys/indexes from the document root). */
export class RuleCompileError extends Error {
  constructor(
    readonly code: RuleErrorCode,
    message: string,
    readonly path: readonly (string | number)[] = [],
  ) {
    super(message);
    this.name = 'RuleCompileError';
  }
}
