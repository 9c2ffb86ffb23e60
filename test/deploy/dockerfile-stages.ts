// Test helper: the Dockerfile's stages as dockerfile-ast parses them, each FROM's image resolved from the ARG
// defaults above the first FROM, and the JSON (exec) form of an instruction's arguments.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

export function dockerStages(): Map<string, Stage> {
  const dockerfile = DockerfileParser.parse(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const args = new Map<string, string>();
  for (const arg of dockerfile.getInitialARGs()) {
    const property = arg.getProperty();
    if (property) args.set(property.getName(), property.getValue() ?? '');
  }
  const stages = new Map<string, Stage>();
  let current: Stage | undefined;
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const from = dockerfile.getFROMs().find((f) => f.getRange().start.line === instruction.getRange().start.line)!;
      const image = (from.getImage() ?? '').replace(/\$\{(\w+)\}/g, (_, name: string) => args.get(name) ?? '');
      current = { name: from.getBuildStage() ?? `#${stages.size}`, image, instructions: [] };
      stages.set(current.name, current);
    } else current?.instructions.push(instruction);
  }
  return stages;
}

/** The stage's instructions with this keyword, in order. */
export const instructionsOf = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.getKeyword() === keyword);

/** The arguments of an exec-form instruction (CMD ["node", ...]); HEALTHCHECK's after its CMD word. */
export function execForm(instruction: Instruction): string[] {
  const content = (instruction.getArgumentsContent() ?? '').replace(/^CMD\s+/, '');
  const argv: unknown = JSON.parse(content);
  if (!Array.isArray(argv)) throw new Error(`${instruction.getKeyword()} is not in exec form: ${content}`);
  return argv.map(String);
}
