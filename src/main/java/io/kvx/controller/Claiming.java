package io.kvx.controller;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.client.ApiClient;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

/**
 * Carries out a {@link Claims.Decision} through the API: releases, and adoptions only after reading
 * the owner afresh (Kubernetes' RecheckDeletionTimestamp: the cached owner may be stale, and one that
 * is gone, replaced by another uid or being deleted must not take objects). An object already gone
 * is not an error; any other failure fails the whole claim, so that the controller's sync fails and
 * backs off before it creates or deletes anything on a wrong count.
 */
public final class Claiming {

  private Claiming() {
  }

  /** Yields the objects the owner controls: those already owned and those adopted now. */
  public static Future<List<JsonObject>> apply(ApiClient client, ResourceType ownerType, JsonObject owner,
                                               ResourceType objType, Claims.Decision decision) {
    List<JsonObject> owned = Collections.synchronizedList(new ArrayList<>(decision.owned()));
    if (!decision.hasWrites()) return Future.succeededFuture(owned);
    List<Future<?>> claims = new ArrayList<>();
    for (JsonObject obj : decision.release()) {
      claims.add(goneIsFine(client.mergePatch(objType, Meta.namespace(obj), Meta.name(obj), null,
          Claims.releasePatch(obj, Meta.uid(owner)))));
    }
    if (!decision.adopt().isEmpty()) {
      claims.add(goneIsFine(client.get(ownerType, Meta.namespace(owner), Meta.name(owner)).compose(fresh -> {
        if (!Meta.uid(owner).equals(Meta.uid(fresh)) || Workloads.isDeleting(fresh)) return Future.succeededFuture();
        List<Future<?>> adoptions = new ArrayList<>();
        for (JsonObject obj : decision.adopt()) {
          adoptions.add(goneIsFine(client.mergePatch(objType, Meta.namespace(obj), Meta.name(obj), null,
              Claims.adoptPatch(obj, owner)).onSuccess(owned::add)));
        }
        return Future.all(adoptions);
      })));
    }
    return Future.all(claims).map(v -> new ArrayList<>(owned));
  }

  /** An orphan that appeared or changed wakes the owners whose selector matches it: they may adopt it. */
  public static void wakeSelecting(Cache.Change change, Cache owners, Consumer<String> enqueue) {
    JsonObject obj = change.current();
    if (obj == null || Workloads.controllerRef(obj) != null) return;
    for (JsonObject owner : owners.list(Meta.namespace(obj))) {
      if (Claims.selectorOf(owner).matches(Meta.labels(obj))) enqueue.accept(Cache.key(owner));
    }
  }

  private static Future<?> goneIsFine(Future<?> f) {
    return f.recover(e -> ApiError.is(e, ApiError.Reason.NotFound) ? Future.succeededFuture() : Future.failedFuture(e));
  }
}
