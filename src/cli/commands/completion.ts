import { Command } from 'commander';
import { UsageError } from '../errors';
import type { Output } from '../output';

/** Every command path of the tree (`disk create`…) with the options it takes, for completion scripts. */
function commandPaths(program: Command): { path: string[]; words: string[] }[] {
  const out: { path: string[]; words: string[] }[] = [];
  const walk = (cmd: Command, path: string[], inherited: string[]) => {
    const options = [...inherited, ...cmd.options.flatMap((o) => [o.short, o.long].filter((x): x is string => !!x))];
    out.push({ path, words: [...cmd.commands.map((c) => c.name()), ...options, '--help'] });
    for (const sub of cmd.commands)
      walk(
        sub,
        [...path, sub.name()],
        options.filter((o) => o.startsWith('--')),
      );
  };
  walk(program, [], []);
  return out;
}

/**
 * A completion script for bash or zsh, made from the command tree itself (so it never lags behind it): the
 * words that may follow each command path. Hand-written, as commander has no completion of its own.
 */
export function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  const cases = commandPaths(program)
    .map(({ path, words }) => `    "${path.join(' ')}") words="${words.join(' ')}" ;;`)
    .join('\n');
  const fn = [
    '_bmi_complete() {',
    '  local path="" word i',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    word="${COMP_WORDS[i]}"',
    '    case "$word" in -*) continue ;; esac',
    '    case " $(_bmi_words "${path# }") " in *" $word "*) path="$path $word" ;; esac',
    '  done',
    '  COMPREPLY=($(compgen -W "$(_bmi_words "${path# }")" -- "${COMP_WORDS[COMP_CWORD]}"))',
    '}',
    '_bmi_words() {',
    '  local words=""',
    '  case "$1" in',
    cases,
    '  esac',
    '  echo "$words"',
    '}',
  ].join('\n');
  if (shell === 'bash')
    return `# bash completion of bmi: eval "$(bmi completion bash)"\n${fn}\ncomplete -F _bmi_complete bmi\n`;
  return `# zsh completion of bmi: eval "$(bmi completion zsh)"\nautoload -U +X bashcompinit && bashcompinit\n${fn}\ncomplete -F _bmi_complete bmi\n`;
}

export function addCompletionCommand(program: Command, stdout: Output): void {
  program
    .command('completion')
    .description('print a shell completion script: eval "$(bmi completion bash)" (or zsh)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new UsageError('completion is for bash or zsh');
      stdout.write(completionScript(program, shell));
    });
}
