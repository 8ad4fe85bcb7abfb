/**
 * `keyheal completion bash|zsh|fish`: shell completion scripts generated from the command table,
 * so a new command or option completes without anyone editing a script. Pure: commands in, script
 * text out.
 *
 * @module
 */
import { type CommandSpec, optionsOf } from "./command.ts";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

interface Group {
  word: string;
  /** Second words (`list`, `show`), empty for a one-word command. */
  verbs: { word: string; summary: string; options: string[] }[];
  summary: string;
  options: string[];
}

function groups(commands: readonly CommandSpec[]): Group[] {
  const byWord = new Map<string, Group>();
  for (const spec of commands) {
    const [first, second] = spec.words as [string, string | undefined];
    const options = Object.keys(optionsOf(spec)).map((name) => `--${name}`);
    let group = byWord.get(first);
    if (!group) {
      group = { word: first, verbs: [], summary: spec.summary, options: [] };
      byWord.set(first, group);
    }
    if (second === undefined) group.options = options;
    else group.verbs.push({ word: second, summary: spec.summary, options });
  }
  return [...byWord.values()];
}

/** Single-quoted for sh and fish: the summaries are ours, but an apostrophe must not end them. */
function quote(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "'\\''")}'`;
}

function fishQuote(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

function bashFunction(commands: readonly CommandSpec[]): string {
  const all = groups(commands);
  const cases = all.map((group) => {
    if (group.verbs.length === 0) {
      return `    ${group.word}) opts=${quote(group.options.join(" "))} ;;`;
    }
    const verbs = group.verbs
      .map((verb) => `        ${verb.word}) opts=${quote(verb.options.join(" "))} ;;`)
      .join("\n");
    return [
      `    ${group.word})`,
      `      if [ "$COMP_CWORD" -eq 2 ]; then`,
      `        COMPREPLY=($(compgen -W ${quote(group.verbs.map((verb) => verb.word).join(" "))} -- "$cur"))`,
      "        return",
      "      fi",
      `      case "\${COMP_WORDS[2]}" in`,
      verbs,
      "      esac ;;",
    ].join("\n");
  });
  return [
    "_keyheal() {",
    `  local cur="\${COMP_WORDS[COMP_CWORD]}" opts=""`,
    '  if [ "$COMP_CWORD" -eq 1 ]; then',
    `    COMPREPLY=($(compgen -W ${quote(["--help", "--version", ...all.map((group) => group.word)].join(" "))} -- "$cur"))`,
    "    return",
    "  fi",
    `  case "\${COMP_WORDS[1]}" in`,
    ...cases,
    "  esac",
    '  case "$cur" in',
    '    -*) COMPREPLY=($(compgen -W "$opts" -- "$cur")) ;;',
    "    *) COMPREPLY=() ;;",
    "  esac",
    "}",
  ].join("\n");
}

function fishScript(commands: readonly CommandSpec[]): string {
  const all = groups(commands);
  const top = all.map((group) => group.word).join(" ");
  const lines = [
    "# keyheal completion for fish: keyheal completion fish > ~/.config/fish/completions/keyheal.fish",
    "complete -c keyheal -f",
    `complete -c keyheal -n "not __fish_seen_subcommand_from ${top}" -l version -d 'Print the version'`,
  ];
  const option = (condition: string, name: string) =>
    `complete -c keyheal -n "${condition}" -l ${name.slice(2)}`;
  for (const group of all) {
    lines.push(
      `complete -c keyheal -n "not __fish_seen_subcommand_from ${top}" -a ${group.word} -d ${fishQuote(group.verbs.length === 0 ? group.summary : `${group.word} commands`)}`,
    );
    if (group.verbs.length === 0) {
      const when = `__fish_seen_subcommand_from ${group.word}`;
      for (const name of group.options) lines.push(option(when, name));
      continue;
    }
    const verbs = group.verbs.map((verb) => verb.word).join(" ");
    for (const verb of group.verbs) {
      lines.push(
        `complete -c keyheal -n "__fish_seen_subcommand_from ${group.word}; and not __fish_seen_subcommand_from ${verbs}" -a ${verb.word} -d ${fishQuote(verb.summary)}`,
      );
      const when = `__fish_seen_subcommand_from ${group.word}; and __fish_seen_subcommand_from ${verb.word}`;
      for (const name of verb.options) lines.push(option(when, name));
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The completion script for `shell`, built from `commands`. */
export function completionScript(shell: Shell, commands: readonly CommandSpec[]): string {
  if (shell === "fish") return fishScript(commands);
  if (shell === "zsh") {
    // zsh runs bash completion functions through bashcompinit, which it ships for this purpose.
    return [
      '# keyheal completion for zsh: eval "$(keyheal completion zsh)" in ~/.zshrc',
      "autoload -U +X compinit && compinit",
      "autoload -U +X bashcompinit && bashcompinit",
      bashFunction(commands),
      "complete -F _keyheal keyheal",
      "",
    ].join("\n");
  }
  return [
    '# keyheal completion for bash: eval "$(keyheal completion bash)" in ~/.bashrc',
    bashFunction(commands),
    "complete -o default -F _keyheal keyheal",
    "",
  ].join("\n");
}
