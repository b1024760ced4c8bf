/** The import graph of an entry point, read statically (no execution): what a bundle or image must contain. */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export const root = resolve(import.meta.dirname, '../..');

/** Files and packages reachable through imports (static and dynamic) from an entry point. */
export function importClosure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      if (fileName.startsWith('.')) {
        const target = resolve(dirname(file), fileName.replace(/\.js$/, '.ts'));
        if (!existsSync(target)) throw new Error(`${relative(root, file)} imports ${fileName}, which does not exist`);
        visit(target);
      } else if (!fileName.startsWith('node:') && !builtinModules.includes(fileName)) {
        const parts = fileName.split('/');
        packages.add(fileName.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    }
  };
  visit(join(root, entry));
  return { files, packages };
}

