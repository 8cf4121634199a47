/**
 * An UpdateItem's expressions built from named steps, every attribute name and value through a placeholder, so no
 * store writes `#x = :x` by hand or collides with a reserved word (`status`, `run`, `pass`).
 */
export class UpdateExpression {
  private readonly names: Record<string, string> = {};
  private readonly values: Record<string, unknown> = {};
  private readonly sets: string[] = [];
  private readonly removes: string[] = [];
  private readonly adds: string[] = [];
  private readonly conditions: string[] = [];

  /** The placeholder of an attribute name. */
  name(attribute: string): string {
    const placeholder = `#${attribute.replace(/\W/g, '_')}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }

  /** A fresh placeholder holding `value`. */
  value(value: unknown): string {
    const placeholder = `:v${Object.keys(this.values).length}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  set(attribute: string, value: unknown): this {
    this.sets.push(`${this.name(attribute)} = ${this.value(value)}`);
    return this;
  }

  remove(...attributes: string[]): this {
    for (const a of attributes) this.removes.push(this.name(a));
    return this;
  }

  /** ADD: moves a number by `delta` atomically. */
  add(attribute: string, delta: number): this {
    this.adds.push(`${this.name(attribute)} ${this.value(delta)}`);
    return this;
  }

  /** A condition over placeholders from `name` and `value`; all conditions must hold. */
  when(condition: string): this {
    this.conditions.push(condition);
    return this;
  }

  /** `attribute IN (…)`: the attribute is one of `options`. */
  isIn(attribute: string, options: readonly unknown[]): string {
    return `${this.name(attribute)} IN (${options.map((o) => this.value(o)).join(', ')})`;
  }

  /** The UpdateItem input fields, to spread beside TableName and Key. */
  build() {
    const clauses = [
      this.sets.length ? `SET ${this.sets.join(', ')}` : '',
      this.removes.length ? `REMOVE ${this.removes.join(', ')}` : '',
      this.adds.length ? `ADD ${this.adds.join(', ')}` : '',
    ].filter(Boolean);
    return {
      UpdateExpression: clauses.join(' '),
      ...(this.conditions.length ? { ConditionExpression: this.conditions.join(' AND ') } : {}),
      ExpressionAttributeNames: this.names,
      ...(Object.keys(this.values).length ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}
