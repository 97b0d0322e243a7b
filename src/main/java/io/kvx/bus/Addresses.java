package io.kvx.bus;

/** Every event-bus address kvx uses, in one place (see verticles/README.md). */
public final class Addresses {

  private Addresses() {
  }

  /** Request/reply to the elected sequencer: create, update, delete, sync. */
  public static final String STORE_WRITE = "kvx.store.write";

  /** The same, on the leader only: {@code kvx.store.write.<member uuid>}, so a lost leader is noticed. */
  public static String storeWrite(String memberUuid) {
    return STORE_WRITE + "." + memberUuid;
  }

  /** Request/reply to any API server: the Kubernetes API as messages (see docs/eventbus.md). */
  public static final String API = "kvx.api";

  /** Where bus watches deliver their events: a client picks {@code kvx.watch.<anything>}. */
  public static final String WATCH_PREFIX = "kvx.watch.";

  /**
   * Request/reply to one node agent: open an exec, attach, port-forward or log session,
   * {@code kvx.node.<nodeName>.stream}.
   */
  public static String nodeStream(String nodeName) {
    return "kvx.node." + nodeName + ".stream";
  }

  /** Client frames of one session, to the node agent: {@code kvx.node.<nodeName>.stream.<session>}. */
  public static String nodeSession(String nodeName, String session) {
    return nodeStream(nodeName) + "." + session;
  }

  /** Container frames of one session, to the API server that holds the client: {@code kvx.api.stream.<session>}. */
  public static String apiSession(String session) {
    return "kvx.api.stream." + session;
  }

  /** Request/reply: one node's CPU and memory usage and its pods', for metrics.k8s.io. */
  public static String nodeStats(String nodeName) {
    return "kvx.node." + nodeName + ".stats";
  }

  /** The Hazelcast structures the store uses. */
  public static final String OBJECTS_MAP = "kvx.objects";
  public static final String CHANGE_LOG = "kvx.changes";
  /** The newest revision, kept beside the objects: deletes leave no object to recover it from. */
  public static final String STORE_META_MAP = "kvx.store.meta";

  /** Member attribute naming the roles a JVM runs. */
  public static final String ROLES_ATTRIBUTE = "kvx.roles";
}
