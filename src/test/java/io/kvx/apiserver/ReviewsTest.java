package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.kvx.rbac.UserInfo;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReviewsTest {

  private static final UserInfo ADMIN = UserInfo.of("kvx-admin", List.of("system:masters"));

  private static Future<JsonObject> answer(String group, String plural, String ns, String body) {
    return Reviews.answer(Reviews.find(group, plural), ns, new JsonObject(body), ADMIN, Authorizer.ALWAYS_ALLOW,
        (t, audiences) -> t.equals("good") ? Future.succeededFuture(new Reviews.TokenUser(
            UserInfo.of("system:serviceaccount:a:b", List.of()), audiences)) : Future.failedFuture("bad"));
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
    Authorizer onlyGets = a -> new Authorizer.Decision(a.verb().equals("get") && a.user().name().equals("alice"),
        "asked " + a.user().name() + " " + a.user().groups() + " " + a.verb() + " " + a.resource());
    JsonObject denied = Reviews.answer(Reviews.find("authorization.k8s.io", "subjectaccessreviews"), null,
        new JsonObject("{\"spec\":{\"user\":\"bob\",\"groups\":[\"devs\"],\"resourceAttributes\":{\"verb\":\"get\",\"resource\":\"pods\"}}}"),
        ADMIN, onlyGets, (t, a) -> Future.failedFuture("no tokens")).result().getJsonObject("status");
    assertEquals(false, denied.getBoolean("allowed"));
    assertEquals("asked bob [devs] get pods", denied.getString("reason"),
        "a SubjectAccessReview is for exactly the user and groups it names");
    JsonObject self = Reviews.answer(Reviews.find("authorization.k8s.io", "selfsubjectaccessreviews"), null,
        new JsonObject("{\"spec\":{\"resourceAttributes\":{\"verb\":\"get\",\"resource\":\"pods\"}}}"),
        UserInfo.of("alice", List.of()), onlyGets, (t, a) -> Future.failedFuture("no tokens")).result().getJsonObject("status");
    assertEquals(true, self.getBoolean("allowed"), "a self review asks for the caller");
  }

  @Test
  void tokenAndSelfReviewsNameTheUser() {
    JsonObject good = answer("authentication.k8s.io", "tokenreviews", null, "{\"spec\":{\"token\":\"good\"}}").result()
        .getJsonObject("status");
    assertEquals(true, good.getBoolean("authenticated"));
    assertEquals("system:serviceaccount:a:b", good.getJsonObject("user").getString("username"));
    assertTrue(good.getJsonObject("user").getJsonArray("groups").contains("system:serviceaccounts:a"));
    assertEquals(List.of(ServiceAccountTokens.ISSUER), good.getJsonArray("audiences").getList(), "the API's own");
    JsonObject bad = answer("authentication.k8s.io", "tokenreviews", null, "{\"spec\":{\"token\":\"x\"}}").result()
        .getJsonObject("status");
    assertEquals(false, bad.getBoolean("authenticated"));
    JsonObject self = answer("authentication.k8s.io", "selfsubjectreviews", null, "{}").result();
    assertEquals("kvx-admin", self.getJsonObject("status").getJsonObject("userInfo").getString("username"));
  }

  @Test
  void rulesReviewListsTheCallersRulesAndSaysWhenSomeAreMissing() {
    Authorizer rbac = new Authorizer() {
      public Decision authorize(io.kvx.rbac.RequestAttributes request) {
        return new Decision(false, "");
      }

      public List<io.kvx.rbac.PolicyRule> rules(UserInfo user, String namespace) {
        return List.of(io.kvx.rbac.PolicyRule.fromJson(new JsonObject(
            "{\"verbs\":[\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}")),
            io.kvx.rbac.PolicyRule.fromJson(new JsonObject("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/api\"]}")));
      }

      public String rulesError(UserInfo user, String namespace) {
        return namespace.equals("broken") ? "RBAC: role.rbac.authorization.k8s.io \"gone\" not found" : "";
      }
    };
    JsonObject status = Reviews.answer(Reviews.find("authorization.k8s.io", "selfsubjectrulesreviews"), null,
        new JsonObject("{\"spec\":{\"namespace\":\"default\"}}"), ADMIN, rbac, (t, a) -> Future.failedFuture("no"))
        .result().getJsonObject("status");
    assertEquals("pods", status.getJsonArray("resourceRules").getJsonObject(0).getJsonArray("resources").getString(0));
    assertEquals("/api", status.getJsonArray("nonResourceRules").getJsonObject(0).getJsonArray("nonResourceURLs")
        .getString(0));
    assertEquals(false, status.getBoolean("incomplete"));
    JsonObject broken = Reviews.answer(Reviews.find("authorization.k8s.io", "selfsubjectrulesreviews"), null,
        new JsonObject("{\"spec\":{\"namespace\":\"broken\"}}"), ADMIN, rbac, (t, a) -> Future.failedFuture("no"))
        .result().getJsonObject("status");
    assertEquals(true, broken.getBoolean("incomplete"));
    assertTrue(broken.getString("evaluationError").contains("\"gone\" not found"), broken.encode());
  }
}
