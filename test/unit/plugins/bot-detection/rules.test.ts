/** bot-detection's verdicts over the built-in rules and the allow/deny lists, no gateway. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { examineAgent, prepareBotDetection } from '../../../../src/plugins/bot-detection/index.js'

describe('bot-detection rules', () => {
  const plain = prepareBotDetection({ allow: [], deny: [] })
  test('bots and HTTP libraries are recognized', () => {
    for (const ua of [
      'Googlebot/2.1',
      'Mozilla/5.0 (compatible; YandexBot/3.0)',
      'Baiduspider-image',
      'MJ12bot',
      'Pingdom.com_bot_version_1.4',
      'WinHTTP',
      'Google-HTTP-Java-Client/1.2',
      'Some-Indexer/1.0',
      'SuperSpider 2.0',
      'ia_archiver',
    ]) {
      assert.equal(examineAgent(plain, ua).verdict, 'bot', ua)
    }
  })
  test('browsers and common tools are not bots (CUBOT phones neither)', () => {
    for (const ua of [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1',
      'curl/8.5.0',
      'PostmanRuntime/7.36.0',
      'Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 Chrome/90 Mobile Safari/537.36',
    ]) {
      assert.equal(examineAgent(plain, ua).verdict, 'none', ua)
    }
  })
  test('allow first, then deny, then the built-in list; the User-Agent is trimmed', () => {
    const c = prepareBotDetection({ allow: ['^Googlebot'], deny: ['^curl/$'] })
    assert.deepEqual(examineAgent(c, 'Googlebot/2.1'), { verdict: 'allow', rule: '^Googlebot' })
    assert.deepEqual(examineAgent(c, '  curl/  '), { verdict: 'deny', rule: '^curl/$' })
  })
})
