// Types for spdx-expression-parse 4 (the package ships none): the syntax tree of an SPDX licence expression.
declare module 'spdx-expression-parse' {
  namespace parse {
    interface LicenceNode {
      license: string;
      plus?: true;
      exception?: string;
    }
    interface ConjunctionNode {
      left: LicenceNode | ConjunctionNode;
      conjunction: 'and' | 'or';
      right: LicenceNode | ConjunctionNode;
    }
    type Node = LicenceNode | ConjunctionNode;
  }
  /** Throws on anything that is not a valid SPDX expression. */
  function parse(expression: string): parse.Node;
  export = parse;
}
