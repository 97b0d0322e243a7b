package io.kvx.rbac;

import java.util.ArrayList;
import java.util.List;

/** An authenticated (or impersonated) user: the name and the groups it is in, as kube's user.Info. */
public record UserInfo(String name, List<String> groups) {

  public static final String AUTHENTICATED = "system:authenticated";
  public static final String UNAUTHENTICATED = "system:unauthenticated";
  public static final String MASTERS = "system:masters";
  public static final String ANONYMOUS = "system:anonymous";
  public static final String SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";

  public UserInfo {
    groups = List.copyOf(groups);
  }

  public boolean in(String group) {
    return groups.contains(group);
  }

  /**
   * The groups Kubernetes gives a user its authenticator named without groups: a ServiceAccount's
   * system:serviceaccounts and system:serviceaccounts:NS, then system:authenticated (system:unauthenticated for
   * system:anonymous), each once.
   */
  public static UserInfo of(String name, List<String> given) {
    List<String> groups = new ArrayList<>(given);
    if (given.isEmpty() && name.startsWith(SERVICE_ACCOUNT_PREFIX)) {
      String[] parts = name.split(":");
      if (parts.length == 4) {
        groups.add("system:serviceaccounts");
        groups.add("system:serviceaccounts:" + parts[2]);
      }
    }
    String implied = name.equals(ANONYMOUS) ? UNAUTHENTICATED : AUTHENTICATED;
    if (!groups.contains(implied)) groups.add(implied);
    return new UserInfo(name, groups);
  }

  /** The namespace and name of a ServiceAccount user ("system:serviceaccount:NS:NAME"), or null. */
  public static String[] serviceAccount(String name) {
    if (!name.startsWith(SERVICE_ACCOUNT_PREFIX)) return null;
    String[] parts = name.substring(SERVICE_ACCOUNT_PREFIX.length()).split(":", -1);
    return parts.length == 2 && !parts[0].isEmpty() && !parts[1].isEmpty() ? parts : null;
  }
}
