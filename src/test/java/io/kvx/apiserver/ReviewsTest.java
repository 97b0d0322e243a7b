package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReviewsTest {

  private static Future<JsonObject> answer(String group, String plural, String ns, String body) {
    return Reviews.answer(Reviews.find(group, plural), ns, new JsonObject(body), "kvx-admin", Authorizer.ALWAYS_ALLOW,
        t -> t.equals("good") ? Future.succeededFuture("system:serviceaccount:a:b") : Future.failedFuture("bad"));
  }

  @Test
  void accessReviewsAreAllowedAndValidated() {
    JsonObject ok = answer("authorization.k8s.io", "selfsubjectaccessreviews", null,
        "{\"spec\":{\"resourceAttributes\":{\"verb\":\"get\",\"resource\":\"pods\"}}}").result();
    assertEquals(true, ok.getJsonObject("status").getBoolean("allowed"));
    assertEquals("SelfSubjectAccessReview", ok.getString("kind"));
    ApiError none = (ApiError) answer("authorization.k8s.io", "selfsubjectaccessreviews", null, "{\"spec\":{}}").cause();
    assertEquals(422, none.code());
    assertTrue(none.getMessage().contains("spec.resourceAttributes"), none.getMessage());
    ApiError elsewhere = (ApiError) answer("authorization.k8s.io", "localsubjectaccessreviews", "ns1",
        "{\"spec\":{\"user\":\"u\",\"resourceAttributes\":{\"namespace\":\"ns2\",\"verb\":\"get\"}}}").cause();
    assertTrue(elsewhere.getMessage().contains("must match metadata.namespace"), elsewhere.getMessage());
    ApiError nobody = (ApiError) answer("authorization.k8s.io", "subjectaccessreviews", null,
        "{\"spec\":{\"resourceAttributes\":{\"verb\":\"get\"}}}").cause();
    assertTrue(nobody.getMessage().contains("spec.user"), nobody.getMessage());
  }

  @Test
  void accessReviewsAskTheAuthorizer() {
    Authorizer onlyGets = a -> new Authorizer.Decision(a.verb().equals("get") && a.user().equals("alice"),
        "asked " + a.user() + " " + a.verb() + " " + a.path());
    JsonObject denied = Reviews.answer(Reviews.find("authorization.k8s.io", "subjectaccessreviews"), null,
        new JsonObject("{\"spec\":{\"user\":\"bob\",\"resourceAttributes\":{\"verb\":\"get\",\"resource\":\"pods\"}}}"),
        "kvx-admin", onlyGets, t -> Future.failedFuture("no tokens")).result().getJsonObject("status");
    assertEquals(false, denied.getBoolean("allowed"));
    assertEquals(true, denied.getBoolean("denied"));
    assertEquals("asked bob get pods", denied.getString("reason"));
    JsonObject self = Reviews.answer(Reviews.find("authorization.k8s.io", "selfsubjectaccessreviews"), null,
        new JsonObject("{\"spec\":{\"resourceAttributes\":{\"verb\":\"get\",\"resource\":\"pods\"}}}"),
        "alice", onlyGets, t -> Future.failedFuture("no tokens")).result().getJsonObject("status");
    assertEquals(true, self.getBoolean("allowed"), "a self review asks for the caller");
  }

  @Test
  void tokenAndSelfReviewsNameTheUser() {
    JsonObject good = answer("authentication.k8s.io", "tokenreviews", null, "{\"spec\":{\"token\":\"good\"}}").result()
        .getJsonObject("status");
    assertEquals(true, good.getBoolean("authenticated"));
    assertEquals("system:serviceaccount:a:b", good.getJsonObject("user").getString("username"));
    assertTrue(good.getJsonObject("user").getJsonArray("groups").contains("system:serviceaccounts:a"));
    JsonObject bad = answer("authentication.k8s.io", "tokenreviews", null, "{\"spec\":{\"token\":\"x\"}}").result()
        .getJsonObject("status");
    assertEquals(false, bad.getBoolean("authenticated"));
    JsonObject self = answer("authentication.k8s.io", "selfsubjectreviews", null, "{}").result();
    assertEquals("kvx-admin", self.getJsonObject("status").getJsonObject("userInfo").getString("username"));
  }
}
