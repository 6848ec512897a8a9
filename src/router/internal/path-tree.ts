/**
 * A radix tree of path prefixes. Each node holds the routes whose path key ends there, sorted
 * by rank; walking the request path from the root visits exactly the routes whose key is a
 * prefix of the path, so the cost depends on the path length, not on the number of routes.
 *
 * @module
 */

export class PathNode<T> {
  /** Text of the edge from the parent. */
  label: string
  items: T[] | null = null
  children: Map<number, PathNode<T>> | null = null

  constructor(label: string) {
    this.label = label
  }
}

/** Inserts `item` under `key`. */
export function insertPath<T>(root: PathNode<T>, key: string, item: T): void {
  let node = root
  let i = 0
  for (;;) {
    if (i === key.length) {
      if (node.items === null) node.items = [item]
      else node.items.push(item)
      return
    }
    const c = key.charCodeAt(i)
    if (node.children === null) node.children = new Map()
    const child = node.children.get(c)
    if (child === undefined) {
      const leaf = new PathNode<T>(key.slice(i))
      leaf.items = [item]
      node.children.set(c, leaf)
      return
    }
    const label = child.label
    let k = 0
    while (k < label.length && i + k < key.length && label.charCodeAt(k) === key.charCodeAt(i + k)) k++
    if (k < label.length) {
      // Split the edge: the shared part becomes a new inner node.
      const mid = new PathNode<T>(label.slice(0, k))
      child.label = label.slice(k)
      mid.children = new Map([[child.label.charCodeAt(0), child]])
      node.children.set(c, mid)
      node = mid
    } else {
      node = child
    }
    i += k
  }
}

/** Sorts every node's items with `compare`, once, after all inserts. */
export function sortPathTree<T>(root: PathNode<T>, compare: (a: T, b: T) => number): void {
  const stack: PathNode<T>[] = [root]
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node.items !== null) node.items.sort(compare)
    if (node.children !== null) for (const child of node.children.values()) stack.push(child)
  }
}

/** Returns the child of `node` whose edge matches `path` at `offset`, or null. */
export function nextPathNode<T>(node: PathNode<T>, path: string, offset: number): PathNode<T> | null {
  if (node.children === null || offset >= path.length) return null
  const child = node.children.get(path.charCodeAt(offset))
  if (child === undefined || !path.startsWith(child.label, offset)) return null
  return child
}
