// A custom Turnpike plugin: adds a greeting header upstream and downstream, and can refuse
// requests that lack a header. Enable it with:
//   plugins = bundled,greeting
//   plugins_path = examples/custom-plugin/plugins
// then: curl -X POST localhost:8001/plugins --data name=greeting --data config.message=hello

/** @type {import('turnpike').Plugin<{ message: string, require_header: string | null }>} */
const plugin = {
  name: 'greeting',
  version: '1.0.0',
  // Runs after authentication plugins (key-auth is 1250) and before rate-limiting (910).
  priority: 1000,
  schema: {
    config: {
      message: { type: 'string', required: true, default: 'hello' },
      require_header: { type: 'string' },
    },
  },

  access(kong, conf) {
    if (conf.require_header && kong.request.getHeader(conf.require_header) === undefined) {
      kong.log.info(`refused: no ${conf.require_header} header`)
      return kong.response.exit(400, { message: `header ${conf.require_header} is required` })
    }
    kong.service.request.setHeader('x-greeting', conf.message)
    kong.ctx.plugin.started = Date.now()
  },

  headerFilter(kong, conf) {
    kong.response.setHeader('x-greeting', conf.message)
  },

  log(kong) {
    kong.log.debug(`greeted in ${Date.now() - kong.ctx.plugin.started} ms`)
  },
}

export default plugin
