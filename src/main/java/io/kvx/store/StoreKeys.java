package io.kvx.store;

/** Splits store keys ({@code group/plural/namespace/name}) for error messages. Pure. */
public final class StoreKeys {

  private StoreKeys() {
  }

  public static String group(String key) {
    String g = key.substring(0, key.indexOf('/'));
    return g.equals("core") ? "" : g;
  }

  public static String resource(String key) {
    String[] p = key.split("/", 4);
    return p[1];
  }

  public static String name(String key) {
    return key.substring(key.lastIndexOf('/') + 1);
  }
}
