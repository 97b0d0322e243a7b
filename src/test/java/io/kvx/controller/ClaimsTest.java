package io.kvx.controller;

import io.kvx.api.LabelSelector;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

class ClaimsTest {

  private static final String OWNER = "uid-owner";
  private static final LabelSelector APP_WEB = LabelSelector.fromMatchLabels(new JsonObject().put("app", "web"));

  private enum Outcome { ADOPT, RELEASE, OWNED, IGNORED }

  private record Case(String name, boolean ownerDeleting, String controllerUid, String app, boolean objDeleting,
                      String namespace, Outcome expected) {
  }

  private static JsonObject object(Case c) {
    JsonObject meta = new JsonObject().put("name", c.name()).put("namespace", c.namespace())
        .put("resourceVersion", "7").put("labels", new JsonObject().put("app", c.app()));
    JsonArray refs = new JsonArray().add(new JsonObject().put("kind", "ConfigMap").put("name", "keep")
        .put("uid", "uid-plain"));
    if (c.controllerUid() != null) {
      refs.add(new JsonObject().put("kind", "ReplicaSet").put("name", "x").put("uid", c.controllerUid())
          .put("controller", true));
    }
    meta.put("ownerReferences", refs);
    if (c.objDeleting()) meta.put("deletionTimestamp", "2026-11-24T00:00:00Z");
    return new JsonObject().put("metadata", meta);
  }

  @Test
  void decidesAsKubernetesControllerRefManager() {
    List<Case> cases = List.of(
        new Case("orphan matching is adopted", false, null, "web", false, "ns", Outcome.ADOPT),
        new Case("orphan not matching is ignored", false, null, "db", false, "ns", Outcome.IGNORED),
        new Case("owned matching is kept", false, OWNER, "web", false, "ns", Outcome.OWNED),
        new Case("owned not matching is released", false, OWNER, "db", false, "ns", Outcome.RELEASE),
        new Case("another controller's matching object is ignored", false, "uid-other", "web", false, "ns",
            Outcome.IGNORED),
        new Case("another controller's non-matching object is ignored", false, "uid-other", "db", false, "ns",
            Outcome.IGNORED),
        new Case("owner deleting adopts no orphan", true, null, "web", false, "ns", Outcome.IGNORED),
        new Case("owner deleting releases nothing", true, OWNER, "db", false, "ns", Outcome.IGNORED),
        new Case("owner deleting keeps what matches", true, OWNER, "web", false, "ns", Outcome.OWNED),
        new Case("terminating orphan is not adopted", false, null, "web", true, "ns", Outcome.IGNORED),
        new Case("terminating owned object is kept, not released", false, OWNER, "db", true, "ns", Outcome.OWNED),
        new Case("orphan in another namespace is not adopted", false, null, "web", false, "other", Outcome.IGNORED));
    for (Case c : cases) {
      Claims.Decision d = Claims.decide(new Claims.Owner(OWNER, "ns", c.ownerDeleting()), APP_WEB, List.of(object(c)));
      Outcome got = !d.adopt().isEmpty() ? Outcome.ADOPT : !d.release().isEmpty() ? Outcome.RELEASE
          : !d.owned().isEmpty() ? Outcome.OWNED : Outcome.IGNORED;
      assertEquals(c.expected(), got, c.name());
      assertEquals(got == Outcome.IGNORED ? 0 : 1, d.adopt().size() + d.release().size() + d.owned().size(), c.name());
    }
  }

  @Test
  void aFilterNarrowsTheMatchLikeTheSelector() {
    // As a StatefulSet claims only the pods named after it.
    JsonObject ownedMember = object(new Case("web-0", false, OWNER, "web", false, "ns", null));
    JsonObject ownedStranger = object(new Case("other-0", false, OWNER, "web", false, "ns", null));
    JsonObject orphanMember = object(new Case("web-1", false, null, "web", false, "ns", null));
    JsonObject orphanStranger = object(new Case("other-1", false, null, "web", false, "ns", null));
    Claims.Decision d = Claims.decide(new Claims.Owner(OWNER, "ns", false), APP_WEB,
        o -> o.getJsonObject("metadata").getString("name").startsWith("web-"),
        List.of(ownedMember, ownedStranger, orphanMember, orphanStranger));
    assertEquals(List.of(ownedMember), d.owned());
    assertEquals(List.of(ownedStranger), d.release());
    assertEquals(List.of(orphanMember), d.adopt());
  }

  @Test
  void anOwnerWithoutASelectorClaimsNothing() {
    JsonObject orphan = object(new Case("p", false, null, "web", false, "ns", null));
    JsonObject none = new JsonObject().put("spec", new JsonObject());
    assertEquals(List.of(), Claims.decide(new Claims.Owner(OWNER, "ns", false), Claims.selectorOf(none),
        List.of(orphan)).adopt());
    JsonObject web = new JsonObject().put("spec", new JsonObject().put("selector",
        new JsonObject().put("matchLabels", new JsonObject().put("app", "web"))));
    assertEquals(List.of(orphan), Claims.decide(new Claims.Owner(OWNER, "ns", false), Claims.selectorOf(web),
        List.of(orphan)).adopt());
    // A ReplicationController's selector is a plain label map.
    JsonObject rc = new JsonObject().put("kind", "ReplicationController").put("spec", new JsonObject()
        .put("selector", new JsonObject().put("app", "db")));
    assertEquals(List.of(), Claims.decide(new Claims.Owner(OWNER, "ns", false), Claims.selectorOf(rc),
        List.of(orphan)).adopt());
    rc.getJsonObject("spec").put("selector", new JsonObject().put("app", "web"));
    assertEquals(List.of(orphan), Claims.decide(new Claims.Owner(OWNER, "ns", false), Claims.selectorOf(rc),
        List.of(orphan)).adopt());
  }

  @Test
  void patchesKeepOtherOwnersAndCarryTheResourceVersion() {
    JsonObject orphan = object(new Case("p", false, null, "web", false, "ns", Outcome.ADOPT));
    JsonObject owner = new JsonObject().put("apiVersion", "apps/v1").put("kind", "ReplicaSet")
        .put("metadata", new JsonObject().put("name", "rs").put("namespace", "ns").put("uid", OWNER));
    JsonObject adopt = Claims.adoptPatch(orphan, owner).getJsonObject("metadata");
    assertEquals("7", adopt.getString("resourceVersion"));
    JsonArray refs = adopt.getJsonArray("ownerReferences");
    assertEquals(2, refs.size());
    assertEquals("uid-plain", refs.getJsonObject(0).getString("uid"));
    assertEquals(new JsonObject().put("apiVersion", "apps/v1").put("kind", "ReplicaSet").put("name", "rs")
        .put("uid", OWNER).put("controller", true).put("blockOwnerDeletion", true), refs.getJsonObject(1));
    assertFalse(orphan.getJsonObject("metadata").getJsonArray("ownerReferences").size() == 2,
        "the cached object is not changed");

    JsonObject owned = object(new Case("q", false, OWNER, "db", false, "ns", Outcome.RELEASE));
    JsonObject release = Claims.releasePatch(owned, OWNER).getJsonObject("metadata");
    assertEquals(new JsonArray().add(new JsonObject().put("kind", "ConfigMap").put("name", "keep")
        .put("uid", "uid-plain")), release.getJsonArray("ownerReferences"));
    JsonObject alone = new JsonObject().put("metadata", new JsonObject().put("resourceVersion", "3")
        .put("ownerReferences", new JsonArray().add(new JsonObject().put("uid", OWNER).put("controller", true))));
    JsonObject cleared = Claims.releasePatch(alone, OWNER).getJsonObject("metadata");
    // A merge patch removes the field with an explicit null.
    assertNull(cleared.getValue("ownerReferences"));
    assertEquals(true, cleared.containsKey("ownerReferences"));
  }
}
