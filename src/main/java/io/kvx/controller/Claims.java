package io.kvx.controller;

import io.kvx.api.LabelSelector;
import io.kvx.api.Meta;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Which objects a controller claims, as Kubernetes' ControllerRefManager decides it: an orphan that
 * matches is adopted unless the owner or the orphan is being deleted; an owned object that no longer
 * matches is released unless the owner is being deleted; an object another controller owns is never
 * touched. Controllers compare owners by uid only, as Kubernetes does. Pure: the fresh read of the
 * owner before adopting and the patches are the controllers' (through {@link Claiming}).
 */
public final class Claims {

  private Claims() {
  }

  /** The claiming controller: its uid, namespace, and whether it has a deletionTimestamp. */
  public record Owner(String uid, String namespace, boolean deleting) {

    public static Owner of(JsonObject owner) {
      return new Owner(Meta.uid(owner), Meta.namespace(owner), Workloads.isDeleting(owner));
    }
  }

  /**
   * {@code owned}: controlled by the owner and kept (matching, or on their way out); {@code adopt}: orphans
   * to take once a fresh read shows the owner still there and not being deleted; {@code release}: owned
   * objects to let go.
   */
  public record Decision(List<JsonObject> owned, List<JsonObject> adopt, List<JsonObject> release) {

    public boolean hasWrites() {
      return !adopt.isEmpty() || !release.isEmpty();
    }
  }

  /**
   * An owner's spec.selector (a plain label map for a ReplicationController, a LabelSelector for the
   * rest); one that selects nothing when absent, since an owner without a selector must not claim
   * every orphan of its namespace.
   */
  public static LabelSelector selectorOf(JsonObject owner) {
    Object sel = owner.getJsonObject("spec", new JsonObject()).getValue("selector");
    if (!(sel instanceof JsonObject s)) return NOTHING;
    return "ReplicationController".equals(owner.getString("kind")) ? LabelSelector.fromMatchLabels(s)
        : LabelSelector.fromJson(s);
  }

  private static final LabelSelector NOTHING = LabelSelector.parse("kvx.io/no-selector,!kvx.io/no-selector");

  public static Decision decide(Owner owner, LabelSelector selector, List<JsonObject> candidates) {
    return decide(owner, selector, o -> true, candidates);
  }

  /**
   * {@code filter} narrows what matches beyond the selector, as Kubernetes' claim filters do (a
   * StatefulSet's pods must be named after it): an owned object failing it is released like one whose
   * labels left the selector.
   */
  public static Decision decide(Owner owner, LabelSelector selector, Predicate<JsonObject> filter,
                                List<JsonObject> candidates) {
    List<JsonObject> owned = new ArrayList<>();
    List<JsonObject> adopt = new ArrayList<>();
    List<JsonObject> release = new ArrayList<>();
    for (JsonObject obj : candidates) {
      boolean matches = selector.matches(Meta.labels(obj)) && filter.test(obj);
      JsonObject ref = Workloads.controllerRef(obj);
      if (ref != null) {
        if (!owner.uid().equals(ref.getString("uid"))) continue;
        // kvx keeps an owned object that is already being deleted rather than patching it on its way
        // out (Kubernetes would release it): it no longer counts as active either way.
        if (matches || Workloads.isDeleting(obj)) owned.add(obj);
        else if (!owner.deleting()) release.add(obj);
      } else if (matches && !owner.deleting() && !Workloads.isDeleting(obj)
          && Objects.equals(owner.namespace(), Meta.namespace(obj))) {
        adopt.add(obj);
      }
    }
    return new Decision(owned, adopt, release);
  }

  /**
   * The merge patch that adopts {@code obj}: its ownerReferences plus a controller reference to
   * {@code owner}, with the resourceVersion read as a precondition (a changed object is decided again).
   */
  public static JsonObject adoptPatch(JsonObject obj, JsonObject owner) {
    JsonArray refs = Meta.meta(obj).getJsonArray("ownerReferences", new JsonArray()).copy();
    refs.add(Workloads.ownerRef(owner));
    return new JsonObject().put("metadata", new JsonObject().put("ownerReferences", refs)
        .put("resourceVersion", Meta.meta(obj).getString("resourceVersion")));
  }

  /** The merge patch that releases {@code obj}: every other ownerReference kept, with the resourceVersion precondition. */
  public static JsonObject releasePatch(JsonObject obj, String ownerUid) {
    JsonArray refs = new JsonArray();
    for (Object o : Meta.meta(obj).getJsonArray("ownerReferences", new JsonArray())) {
      if (!ownerUid.equals(((JsonObject) o).getString("uid"))) refs.add(o);
    }
    return new JsonObject().put("metadata", new JsonObject().put("ownerReferences", refs.isEmpty() ? null : refs)
        .put("resourceVersion", Meta.meta(obj).getString("resourceVersion")));
  }
}
