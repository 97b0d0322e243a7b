package io.kvx.controller;

import io.kvx.api.Meta;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * ControllerRevisions as StatefulSets and DaemonSets keep them: one per pod template they have run,
 * named {@code <owner>-<template hash>}, numbered in order of use, the template stored as a patch
 * of the owner's spec (what `kubectl rollout history` and `undo` read). Pure.
 */
public final class Revisions {

  public static final String HASH_LABEL = "controller.kubernetes.io/hash";
  public static final String POD_LABEL = "controller-revision-hash";

  private Revisions() {
  }

  public static String name(JsonObject owner, String hash) {
    return Meta.name(owner) + "-" + hash;
  }

  public static long number(JsonObject revision) {
    Object v = revision.getValue("revision");
    return v instanceof Number n ? n.longValue() : 0;
  }

  /** The template a revision recorded, or null. */
  public static JsonObject template(JsonObject revision) {
    if (revision == null) return null;
    JsonObject data = revision.getJsonObject("data", new JsonObject());
    JsonObject t = data.getJsonObject("spec", new JsonObject()).getJsonObject("template");
    if (t == null) return null;
    t = t.copy();
    t.remove("$patch");
    return t;
  }

  public static JsonObject revision(JsonObject owner, String hash, long number) {
    JsonObject template = owner.getJsonObject("spec", new JsonObject()).getJsonObject("template", new JsonObject())
        .copy();
    JsonObject labels = template.getJsonObject("metadata", new JsonObject()).getJsonObject("labels", new JsonObject())
        .copy().put(HASH_LABEL, hash);
    return new JsonObject().put("apiVersion", "apps/v1").put("kind", "ControllerRevision")
        .put("metadata", new JsonObject().put("name", name(owner, hash)).put("namespace", Meta.namespace(owner))
            .put("labels", labels).put("ownerReferences", new JsonArray().add(Workloads.ownerRef(owner))))
        .put("data", new JsonObject().put("spec", new JsonObject().put("template", template.put("$patch", "replace"))))
        .put("revision", number);
  }

  public static long maxNumber(List<JsonObject> revisions) {
    return revisions.stream().mapToLong(Revisions::number).max().orElse(0);
  }

  /** Revisions beyond the history limit, oldest first, never one still in use. */
  public static List<JsonObject> prunable(List<JsonObject> revisions, Set<String> inUse, int limit) {
    List<JsonObject> idle = revisions.stream().filter(r -> !inUse.contains(Meta.name(r)))
        .sorted(Comparator.comparingLong(Revisions::number)).toList();
    return idle.subList(0, Math.max(0, idle.size() - Math.max(0, limit)));
  }
}
