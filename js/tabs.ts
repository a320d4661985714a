// Calls between the tabs of one origin, in js/rpc.ts's protocol over a BroadcastChannel. Each
// message is an envelope around an RpcRequest, RpcResponse or RpcEvent: {to: 'owner', from, msg}
// reaches whichever tab serves (the one holding the cache's worker), {to: tab, msg} its caller.
// {owner: tab} announces a new owner: callers then resend what is still unanswered.
//
// The serving side listens on a channel object of its own, so that a tab's own unanswered calls
// (sent to an owner that went away before this tab took over) reach it like any other tab's.
import { serveRpc, type RpcHandlers, type RpcPort, type RpcVerbs } from './rpc.js';

type Envelope = { to: string; from?: string; msg: unknown } | { owner: string };
type Listener = (e: MessageEvent) => void;

/** A port whose postMessage never throws: a closed channel just drops the message (the caller
 * resends to the next owner). Transfer lists are ignored: a BroadcastChannel copies. */
function portOf(post: (msg: unknown) => void, listeners: Set<Listener>): RpcPort {
  return {
    postMessage: (msg) => {
      try {
        post(msg);
      } catch {
        // see above
      }
    },
    addEventListener: (type, l) => void (type === 'message' && listeners.add(l)),
    removeEventListener: (type, l) => void (type === 'message' && listeners.delete(l)),
  };
}

const deliver = (listeners: Set<Listener>, data: unknown) => {
  for (const l of listeners) l({ data } as MessageEvent);
};

export class TabChannel {
  private readonly calling: BroadcastChannel;
  private serving?: BroadcastChannel;
  private readonly replies = new Set<Listener>();
  private onOwner: () => void = () => {};

  constructor(
    private readonly name: string,
    /** This tab's id: unique per cache object. */
    readonly tab: string,
  ) {
    this.calling = new BroadcastChannel(name);
    this.calling.onmessage = (e) => {
      const m = e.data as Envelope;
      if ('owner' in m) this.onOwner();
      else if (m.to === this.tab) deliver(this.replies, m.msg);
    };
  }

  /** The port this tab calls the owner through (for an RpcClient). */
  readonly port: RpcPort = portOf((msg) => this.calling.postMessage({ to: 'owner', from: this.tab, msg } satisfies Envelope), this.replies);

  /** Runs f whenever a tab announces that it now owns the worker. */
  whenOwnerChanges(f: () => void): void {
    this.onOwner = f;
  }

  /** Serves calls from every tab (this one included) until stopServing(): one serveRpc per
   * calling tab, with handlers of its own from `handlersFor()`. */
  serve<P extends RpcVerbs<P>, E>(handlersFor: () => RpcHandlers<P, E>): void {
    const ch = (this.serving = new BroadcastChannel(this.name));
    const callers = new Map<string, Set<Listener>>();
    ch.onmessage = (e) => {
      const m = e.data as Envelope;
      if ('owner' in m || m.to !== 'owner' || typeof m.from !== 'string') return;
      const from = m.from;
      let listeners = callers.get(from);
      if (!listeners) {
        listeners = new Set();
        callers.set(from, listeners);
        serveRpc<P, E>(portOf((msg) => ch.postMessage({ to: from, msg } satisfies Envelope), listeners), handlersFor());
      }
      deliver(listeners, m.msg);
    };
  }

  /** Tells every tab (this one included) that this tab serves now. */
  announce(): void {
    this.serving?.postMessage({ owner: this.tab } satisfies Envelope);
  }

  stopServing(): void {
    this.serving?.close();
    this.serving = undefined;
  }

  close(): void {
    this.stopServing();
    this.calling.close();
  }
}
