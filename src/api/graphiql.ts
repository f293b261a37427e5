// GraphiQL served from this process: yoga's default page loads its code from unpkg.com, which an
// offline or locked-down network cannot reach. The bundle of @graphql-yoga/render-graphiql is
// served as separate, cacheable assets instead of being inlined into every page (9 MB).
import type { GraphiQLOptions } from 'graphql-yoga';

export const GRAPHIQL_ASSET_PREFIX = '/graphql/assets/';

type Assets = Record<string, { body: string; type: string }>;
let assets: Promise<Assets> | undefined;

/** The 9 MB bundle is loaded on the first page view, not at start-up. */
function loadAssets(): Promise<Assets> {
  const jsType = 'text/javascript; charset=utf-8';
  assets ??= import('@graphql-yoga/render-graphiql/graphiql').then((b) => ({
    'graphiql.js': { body: b.js, type: jsType },
    'graphiql.css': { body: b.css, type: 'text/css; charset=utf-8' },
    'editor.worker.js': { body: b.editorWorkerService, type: jsType },
    'json.worker.js': { body: b.jsonWorker, type: jsType },
    'graphql.worker.js': { body: b.graphqlWorker, type: jsType },
  }));
  return assets;
}

export async function graphiqlAsset(name: string): Promise<Response | undefined> {
  const asset = (await loadAssets())[name];
  if (!asset) return undefined;
  return new Response(asset.body, {
    headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' },
  });
}

const escapeJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export function renderGraphiQL(opts: GraphiQLOptions = {}): string {
  const p = GRAPHIQL_ASSET_PREFIX;
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${opts.title ?? 'GraphiQL'}</title>
    <link rel="stylesheet" href="${p}graphiql.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run GraphiQL.</noscript>
    <div id="root"></div>
    <script>
      self['MonacoEnvironment'] = {
        globalAPI: false,
        getWorkerUrl: function (_moduleId, label) {
          return label === 'json' ? '${p}json.worker.js' : label === 'graphql' ? '${p}graphql.worker.js' : '${p}editor.worker.js';
        },
      };
    </script>
    <script src="${p}graphiql.js"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${escapeJson(opts)});
    </script>
  </body>
</html>`;
}
