// ESLint configuration (flat config). `npm run lint` runs it with Prettier's check; `npm test`
// runs lint first. Type-aware rules catch promises nobody awaits; the `turnpike/folders` rule
// encodes docs/architecture.md's folder rules: which top-level folder of src/ may import which,
// and that only src/http/ speaks node:http or undici.
import { dirname, relative, resolve, sep } from 'node:path'
import tseslint from 'typescript-eslint'

const root = import.meta.dirname

/**
 * What each top-level folder of src/ may import (besides itself). A new arrow here is a design
 * decision: it must not close a loop (test/unit/architecture/folders.test.ts checks that the
 * folder graph has no cycle). `index` and `version` are src/index.ts and src/version.ts.
 */
const FOLDERS = {
  admin: ['balancer', 'codec', 'dao', 'entities', 'errors', 'ids', 'plugins', 'schema', 'store', 'version'],
  balancer: ['entities', 'schema'],
  cli: ['config', 'dao', 'declarative', 'doctor', 'http', 'plugins', 'regex', 'runtime', 'schema', 'store', 'version'],
  codec: ['schema'],
  config: ['ids'],
  counters: [],
  dao: ['errors', 'ids', 'schema', 'store'],
  declarative: ['admin', 'dao', 'errors', 'ids', 'schema', 'store'],
  dns: [],
  doctor: [
    'admin',
    'balancer',
    'codec',
    'config',
    'dns',
    'entities',
    'errors',
    'health',
    'http',
    'observability',
    'plugins',
    'proxy',
    'router',
    'schema',
    'snapshot',
    'version',
  ],
  entities: ['schema'],
  errors: ['schema'],
  health: ['balancer', 'http', 'snapshot'],
  http: ['admin', 'codec', 'errors', 'observability', 'proxy'],
  ids: [],
  index: ['codec', 'config', 'pdk', 'plugins', 'runtime', 'schema', 'version'],
  observability: ['config'],
  pdk: ['codec', 'observability'],
  plugins: ['balancer', 'codec', 'counters', 'dao', 'entities', 'pdk', 'regex', 'schema', 'store', 'version'],
  proxy: ['balancer', 'codec', 'config', 'dns', 'errors', 'observability', 'pdk', 'plugins', 'router', 'snapshot', 'version'],
  regex: [],
  router: ['ids', 'regex'],
  runtime: [
    'admin',
    'balancer',
    'config',
    'counters',
    'dao',
    'declarative',
    'doctor',
    'entities',
    'health',
    'http',
    'observability',
    'plugins',
    'proxy',
    'regex',
    'schema',
    'snapshot',
    'store',
    'version',
  ],
  schema: ['ids', 'store'],
  snapshot: ['balancer', 'entities', 'errors', 'pdk', 'plugins', 'router', 'schema', 'store'],
  store: [],
  version: [],
}
const HTTP_MODULES = new Set(['node:http', 'node:https', 'node:http2', 'http', 'https', 'http2', 'undici'])

/** The top-level src/ folder of an absolute path (`index`/`version` for src/*.ts), or null outside src/. */
function folderOf(file) {
  const parts = relative(resolve(root, 'src'), file).split(sep)
  if (parts[0] === '..' || parts[0] === '') return null
  return parts.length === 1 ? parts[0].replace(/\.[jt]s$/, '') : parts[0]
}

const foldersRule = {
  meta: { type: 'problem', schema: [], docs: { description: 'src/ folders import only what docs/architecture.md allows' } },
  create(context) {
    const from = folderOf(context.filename)
    if (from === null) return {}
    const check = (node, spec) => {
      if (typeof spec !== 'string') return
      if (HTTP_MODULES.has(spec) && from !== 'http') {
        context.report({ node, message: `only src/http/ may import ${spec}: use the adapters in src/http/` })
        return
      }
      if (!spec.startsWith('.')) return
      const to = folderOf(resolve(dirname(context.filename), spec))
      if (to === null || to === from) return
      const allowed = FOLDERS[from]
      if (allowed === undefined)
        context.report({ node, message: `src/${from}/ is not in eslint.config.js's folder table: add it with what it may import` })
      else if (!allowed.includes(to))
        context.report({
          node,
          message: `src/${from}/ may not import src/${to}/ (folder rules in eslint.config.js and docs/architecture.md)`,
        })
    }
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    }
  },
}

export default tseslint.config(
  { ignores: ['build/**', 'build-*/**', 'node_modules/**', '.ci/**', 'bench/results/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: root },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test()/describe() return promises the runner itself awaits.
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
      'no-var': 'error',
      'prefer-const': 'error',
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { turnpike: { rules: { folders: foldersRule } } },
    rules: { 'turnpike/folders': 'error' },
  },
)
