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

  /** Request/reply to one node agent: {@code kvx.node.<nodeName>.log}. */
  public static String nodeLog(String nodeName) {
    return "kvx.node." + nodeName + ".log";
  }

  /** The Hazelcast structures the store uses. */
  public static final String OBJECTS_MAP = "kvx.objects";
  public static final String CHANGE_LOG = "kvx.changes";
  /** The newest revision, kept beside the objects: deletes leave no object to recover it from. */
  public static final String STORE_META_MAP = "kvx.store.meta";

  /** Member attribute naming the roles a JVM runs. */
  public static final String ROLES_ATTRIBUTE = "kvx.roles";
}
