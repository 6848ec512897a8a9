/**
 * The built-in list of bot User-Agents of the `bot-detection` plugin. Kong builds its list from
 * ua-parser's `regexes.yaml` (uap-core); this one follows the same families, written out here as
 * names and a few generic shapes, so that the same User-Agents are refused.
 *
 * @module
 */

import { boundedRegex, type BoundedRegex } from '../../regex/bounded-regex.js'

/** Crawlers, monitors and fetchers known by name (matched anywhere in the User-Agent). */
const NAMED = [
  // search engines and their helpers
  '(?:[a-zA-Z]+-)?Googlebot(?:-[a-zA-Z]+)?', 'AdsBot-Google(?:-[a-z]+)?', 'Mediapartners-Google', 'AppEngine-Google', 'Google SketchUp',
  'bingbot', 'BingPreview', 'msnbot(?:-media *)?', 'msrbot', '[Bb]ai[Dd]u[Ss]pider(?:-[A-Za-z]+)*', 'Yandex\\w+', 'Yahoo! Slurp', 'Yahoo[a-z]*Seeker', 'Slurp',
  'YodaoBot(?:-[A-z]+)?', 'Daumoa(?:-feedfetcher)?', 'Mail\\.RU_Bot', 'Ask Jeeves', 'altavista', 'lycos', 'gigabot', 'scooter', 'yacy(?:bot)?',
  'ia_archiver', 'InternetArchive', 'archive.*?\\.org_bot', 'archiver', 'heritrix', 'Nutch[^/]*', 'larbin', 'htdig', 'grub-client', 'gsa-crawler',
  // link checkers, previewers, monitors
  'Checklinks', 'findlinks', 'Xenu(?:.s)? Link Sleuth', 'LinkAider', 'LinkedInBot', 'TwitterBot', 'Catchpoint bot', 'GomezAgent', 'YottaaMonitor',
  'PagePeeker', 'URL2PNG', 'WebThumb', 'ThumbShotsBot', 'Thumbshots\\.ru', 'ZooShot', 'Peeplo Screenshot Bot', 'Web-sniffer', 'WhatWeb',
  // assorted crawlers of ua-parser's list
  '1470\\.net crawler', '50\\.nu', '8bo Crawler Bot', 'Aboundex', 'Accoona-[A-z]+-Agent', 'blitzbot', 'BlogBridge', 'BoardReader(?: [A-Za-z]+)*',
  'boitho.com-dc', 'BotSeer', '\\b\\w*favicon\\w*\\b', '\\bYeti(?:-[a-z]+)?', '[Cc]harlotte', 'clumboot', 'Comodo HTTP\\(S\\) Crawler',
  'Comodo-Webinspector-Crawler', 'ConveraCrawler', 'CRAWL-E', 'CrawlConvera', 'Feed Seeker Bot', 'Flamingo_SearchEngine', 'FollowSite Bot',
  'furlbot', 'Genieo', 'gonzo1', 'HiddenMarket', 'holmes', 'HooWWWer', 'ICC-Crawler', 'Icarus6j', 'ichiro(?:/mobile)?', 'IconSurf',
  'IlTrovatore(?:-Setaccio)?', 'InfuzApp', 'Innovazion Crawler', 'IP2[a-z]+Bot', 'jbot\\b', 'KaloogaBot', 'Kraken', 'Kurzor', 'LEIA', 'LesnikBot',
  'Linguee Bot', 'Lite Bot', 'Llaut', 'masidani_bot', 'Microsoft .*? Bot', 'mogimogi', 'mozDex', 'MJ12bot', 'netresearch', 'Netvibes',
  'NewsGator[^/]*', '^NING', 'Nymesis', 'ObjectsSearch', 'Orbiter', 'OOZBOT', 'PagesInventory', 'PaxleFramework', 'PlantyNet_WebRobot', 'Pompos',
  'Read%20Later', 'Reaper', 'RedCarpet', 'Retreiver', 'Riddler', 'Rival IQ', 'Scrapy', 'Scrubby', 'searchsight', 'seekbot', 'semanticdiscovery',
  'Simpy', 'SimplePie', 'SEOstats', 'SimpleRSS', 'SiteCon', 'snappy', 'Speedy Spider', 'Squrl Java', 'TheUsefulbot', 'Vagabondo', 'VoilaBot',
  '^vortex', 'Votay bot', '^voyager', 'WASALive.Bot', 'WeSEE:[A-z]+', 'WIRE', 'WordPress', 'Wotbox', 'www\\.almaden\\.ibm\\.com',
  'Xerka [A-z]+Bot', 'Yowedo', '^Zao', '^Zao-Crawler', 'ZeBot_www\\.ze\\.bz', 'ZyBorg',
]

/** Programmatic HTTP clients (libraries and downloaders). */
const CLIENTS = ['Google-HTTP-Java-Client', 'Apache-HttpClient', 'http%20client', 'Python-urllib', 'HttpMonitor', 'TLSProber', 'WinHTTP', 'JNLP']

/** Names followed by `/<version>`. */
const VERSIONED = [
  '008', 'Altresium', 'Argus', 'BaiduMobaider', 'BoardReader', 'DNSGroup', 'DataparkSearch', 'EDI', 'Goodzer', 'Grub', 'INGRID', 'Infohelfer',
  'LinkedInBot', 'LOOQ', 'Nutch', 'PathDefender', 'Peew', 'PostPost', 'Steeler', 'Twitterbot', 'VSE', 'WebCrunch', 'WebZIP', 'Y!J-BR[A-Z]',
  'YahooSeeker', 'envolk', 'sproose', 'wminer',
]

const VERSION = '(\\d+)(?:\\.(\\d+)(?:\\.(\\d+))?)?'
const ROBOT_WORD = '(?:[Aa]rchiver|[Ii]ndexer|[Ss]craper|[Bb]ot|[Ss]pider|[Cc]rawl[a-z]*)'

/** The rules, as regular expression sources (JavaScript syntax). */
export const BOT_RULES: readonly string[] = [
  'Pingdom\\.com_bot_version_\\d+\\.\\d+',
  'facebookexternalhit/\\d+\\.\\d+',
  'Google.*/\\+/web/snippet',
  'Twitterbot/\\d+\\.\\d+',
  // `/name-1.2` shapes
  `/(?:(?:Ant-)?Nutch|[A-z]+[Bb]ot|[A-z]+[Ss]pider|Axtaris|fetchurl|Isara|ShopSalad|Tailsweep)[ \\-]${VERSION}`,
  `(?:${VERSIONED.join('|')})/${VERSION}`,
  'MSIE \\d+\\.\\d+(?:[a-z]\\d?)?;.* MSIECrawler',
  `(?:${CLIENTS.join('|')})(?:[ /]${VERSION})?`,
  `(?:${NAMED.join('|')})(?:[ /]v?${VERSION})?`,
  // generic `something-bot/1.0` and `something crawler 1.0`
  `(?:/[A-Za-z0-9.]+)? *[A-Za-z0-9 \\-_![\\]:]*${ROBOT_WORD}/${VERSION}`,
  `(?:/[A-Za-z0-9.]+)? *[A-Za-z0-9 _![\\]:]*${ROBOT_WORD} ${VERSION}`,
  // anything calling itself a spider, scraper, crawler or …bot (but not the CUBOT phone brand)
  '(?:[A-z0-9]+|[A-z\\-]+ ?)?(?: the )?(?:[Ss][Pp][Ii][Dd][Ee][Rr]|[Ss]crape|[A-Za-z0-9-]*(?:[^C][^Uu])[Bb]ot|[Cc][Rr][Aa][Ww][Ll])[A-z0-9]*',
]

/** The rules compiled once. */
export const BOT_REGEXES: readonly BoundedRegex[] = BOT_RULES.map((r) => boundedRegex(r))
