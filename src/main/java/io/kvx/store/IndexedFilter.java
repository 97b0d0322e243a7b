package io.kvx.store;

import io.vertx.core.json.JsonObject;

import java.util.function.Predicate;

/**
 * A watch filter that asks for one value of one field ({@code spec.nodeName=node-7}) and then some
 * more ({@code rest}). The watch cache files such a watcher under that value, so a change reaches only
 * the watchers of the values the object had before and has now, as kube-apiserver's watch cache does
 * with its indexed triggers (pods by spec.nodeName): a kubelet's watch then costs nothing per change
 * of another node's pod.
 */
public record IndexedFilter(String field, String value, Predicate<JsonObject> rest) implements Predicate<JsonObject> {

  public IndexedFilter {
    if (rest == null) rest = o -> true;
  }

  @Override
  public boolean test(JsonObject o) {
    return value.equals(valueOf(field, o)) && rest.test(o);
  }

  /** The field's value as a string; a missing field reads as "" (as field selectors read it). */
  public static String valueOf(String field, JsonObject obj) {
    Object cur = obj;
    int from = 0;
    while (from <= field.length()) {
      int dot = field.indexOf('.', from);
      String part = dot < 0 ? field.substring(from) : field.substring(from, dot);
      if (!(cur instanceof JsonObject o)) return "";
      cur = o.getValue(part);
      if (dot < 0) break;
      from = dot + 1;
    }
    return cur == null ? "" : String.valueOf(cur);
  }
}
