package s3

import (
	"errors"
	"strings"
	"testing"
)

const polBucket = "pb1"

func mustPolicy(t *testing.T, doc string) *bucketPolicy {
	t.Helper()
	p, err := parsePolicy([]byte(doc), polBucket, nil)
	if err != nil {
		t.Fatalf("parsePolicy(%s): %v", doc, err)
	}
	return p
}

// stmt wraps statements in a 2012-10-17 policy.
func stmt(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

func TestPolicyMalformed(t *testing.T) {
	known := func(project, user string) bool {
		return project == "pa" && (user == "" || user == "alice")
	}
	allow := func(extra string) string {
		return stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"` + extra + `}`)
	}
	cases := []struct {
		name, doc, msg string
	}{
		{"not json", `{"Version":`, msgPolicyInvalidJSON},
		{"first byte", `["x"]`, msgPolicyFirstByte},
		{"empty", ``, msgPolicyFirstByte},
		{"no statement", `{"Version":"2012-10-17"}`, msgPolicyMissingStatement},
		{"empty statement", `{"Version":"2012-10-17","Statement":[]}`, msgPolicyEmptyStatement},
		{"bad version", `{"Version":"2020-01-01","Statement":[]}`, msgPolicyInvalidVersion},
		{"unknown top field", `{"Version":"2012-10-17","Statment":[],"Statement":[]}`, "Unknown field Statment"},
		{"unknown statement field", allow(`,"condition":{}`), "Unknown field condition"},
		{"no effect", stmt(`{"Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`), msgPolicyMissingEffect},
		{"bad effect", stmt(`{"Effect":"Maybe","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`), "Invalid effect: Maybe"},
		{"no principal", stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`), msgPolicyMissingPrincipal},
		{"bare principal", stmt(`{"Effect":"Allow","Principal":"alice","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`), msgPolicyInvalidPrincipal},
		{"wildcard arn", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`), msgPolicyInvalidPrincipal},
		{"unknown project", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::zz:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`), msgPolicyInvalidPrincipal},
		{"unknown user", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::pa:user/mallory"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`), msgPolicyInvalidPrincipal},
		{"no action", stmt(`{"Effect":"Allow","Principal":"*","Resource":"arn:aws:s3:::pb1/*"}`), msgPolicyMissingAction},
		{"other service", stmt(`{"Effect":"Allow","Principal":"*","Action":"iam:PassRole","Resource":"arn:aws:s3:::pb1/*"}`), msgPolicyInvalidAction},
		{"unknown action", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObjekt","Resource":"arn:aws:s3:::pb1/*"}`), msgPolicyInvalidAction},
		{"pattern of nothing", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:Frob*","Resource":"arn:aws:s3:::pb1/*"}`), msgPolicyInvalidAction},
		{"no resource", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}`), msgPolicyMissingResource},
		{"other bucket", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}`), msgPolicyInvalidResource},
		{"all buckets", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::*"}`), msgPolicyInvalidResource},
		{"not an s3 arn", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"pb1/*"}`), msgPolicyInvalidResource},
		{"object action on bucket", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1"}`), msgPolicyResourceMismatch},
		{"bucket action on objects", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::pb1/*"}`), msgPolicyResourceMismatch},
		{"account action", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:ListAllMyBuckets","Resource":"arn:aws:s3:::pb1"}`), msgPolicyResourceMismatch},
		{"bad operator", allow(`,"Condition":{"StringEq":{"aws:username":"x"}}`), "Invalid Condition type : StringEq"},
		{"operator case", allow(`,"Condition":{"stringequals":{"aws:username":"x"}}`), "Invalid Condition type : stringequals"},
		{"bad key", allow(`,"Condition":{"StringEquals":{"foo:bar":"x"}}`), msgPolicyConditionKey},
		{"prefix on GetObject", allow(`,"Condition":{"StringEquals":{"s3:prefix":"x"}}`), msgPolicyConditionAction},
		{"bad ip", allow(`,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.300/8"}}`), msgPolicyConditionIP},
		{"duplicate sid", stmt(
			`{"Sid":"a","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`,
			`{"Sid":"a","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`), msgPolicyDuplicateSid},
		{"too large", stmt(`{"Sid":"` + strings.Repeat("x", maxPolicySize) + `","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`), msgPolicyTooLarge},
	}
	for _, c := range cases {
		_, err := parsePolicy([]byte(c.doc), polBucket, known)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != "MalformedPolicy" || ae.Status != 400 || ae.Message != c.msg {
			t.Errorf("%s: got %v, want MalformedPolicy %q", c.name, err, c.msg)
		}
	}
	// Accepted forms.
	for _, doc := range []string{
		`{"Statement":{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::pb1"]}}`,
		stmt(`{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::pa:root","arn:aws:iam::pa:user/alice","pa"]},"Action":"s3:Get*","Resource":"arn:aws:s3:::pb1"}`),
		stmt(`{"Effect":"Allow","Principal":{"CanonicalUser":"pa"},"Action":"S3:getobject","Resource":"arn:aws:s3:::pb1/a?c/*"}`),
		stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::pa:root"},"NotAction":"s3:GetObject","NotResource":"arn:aws:s3:::pb1/x"}`),
		stmt(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":["arn:aws:s3:::pb1","arn:aws:s3:::pb1/*"],` +
			`"Condition":{"ForAnyValue:StringLikeIfExists":{"aws:UserAgent":["a*"]},"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:max-keys":10}}}`),
		stmt(`{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::pb1/logs/*"}`),
	} {
		if _, err := parsePolicy([]byte(doc), polBucket, known); err != nil {
			t.Errorf("valid policy refused: %v\n%s", err, doc)
		}
	}
}

func TestPolicyEvaluate(t *testing.T) {
	anon := func(action, resource string, ctx map[string]string) accessQuery {
		return accessQuery{anonymous: true, action: action, resource: resource, ctx: ctx}
	}
	user := func(project, name, action, resource string, ctx map[string]string) accessQuery {
		return accessQuery{project: project, user: name, action: action, resource: resource, ctx: ctx}
	}
	ip := func(addr string) map[string]string { return map[string]string{"aws:sourceip": addr} }
	cases := []struct {
		name   string
		policy string
		q      accessQuery
		want   policyEffect
	}{
		{"anonymous prefix", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/pub/*"}`),
			anon("getobject", "pb1/pub/a/b", nil), effectAllow},
		{"outside prefix", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/pub/*"}`),
			anon("getobject", "pb1/priv/a", nil), effectNone},
		{"other action", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/pub/*"}`),
			anon("putobject", "pb1/pub/a", nil), effectNone},
		{"action case and pattern", stmt(`{"Effect":"Allow","Principal":"*","Action":"S3:Get*","Resource":"arn:aws:s3:::pb1/*"}`),
			anon("getobjectacl", "pb1/k", nil), effectAllow},
		{"question mark", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/a?c"}`),
			anon("getobject", "pb1/abc", nil), effectAllow},
		{"question mark one rune", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/a?c"}`),
			anon("getobject", "pb1/aéc", nil), effectAllow},
		{"question mark not two", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/a?c"}`),
			anon("getobject", "pb1/abbc", nil), effectNone},
		{"user arn", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::pb:user/bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`),
			user("pb", "bob", "getobject", "pb1/k", nil), effectAllow},
		{"user arn other user", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::pb:user/bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`),
			user("pb", "bea", "getobject", "pb1/k", nil), effectNone},
		{"user arn not anonymous", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::pb:user/bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`),
			anon("getobject", "pb1/k", nil), effectNone},
		{"project root", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::pb:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`),
			user("pb", "bea", "getobject", "pb1/k", nil), effectAllow},
		{"deny wins", stmt(
			`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::pb1/*"}`,
			`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::pa:user/al"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`),
			user("pa", "al", "getobject", "pb1/k", nil), effectDeny},
		{"not principal", stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::pa:root"},"Action":"s3:*","Resource":"arn:aws:s3:::pb1/*"}`),
			user("pb", "bob", "getobject", "pb1/k", nil), effectDeny},
		{"not principal excluded", stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::pa:root"},"Action":"s3:*","Resource":"arn:aws:s3:::pb1/*"}`),
			user("pa", "al", "getobject", "pb1/k", nil), effectNone},
		{"not action", stmt(`{"Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`),
			anon("putobject", "pb1/k", nil), effectDeny},
		{"not resource", stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:*","NotResource":"arn:aws:s3:::pb1/ok/*"}`),
			anon("getobject", "pb1/ok/k", nil), effectNone},
		{"source ip in", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"IpAddress":{"aws:SourceIp":["10.1.0.0/16","192.0.2.7"]}}}`),
			anon("getobject", "pb1/k", ip("10.1.2.3")), effectAllow},
		{"source ip single", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"IpAddress":{"aws:SourceIp":["10.1.0.0/16","192.0.2.7"]}}}`),
			anon("getobject", "pb1/k", ip("192.0.2.7")), effectAllow},
		{"source ip out", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"IpAddress":{"aws:SourceIp":"10.1.0.0/16"}}}`),
			anon("getobject", "pb1/k", ip("10.2.0.1")), effectNone},
		{"source ip v6", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}}`),
			anon("getobject", "pb1/k", ip("2001:db8::5")), effectAllow},
		{"not ip deny", stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::pb1/*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`),
			anon("getobject", "pb1/k", ip("127.0.0.1")), effectDeny},
		{"not ip inside", stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::pb1/*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`),
			anon("getobject", "pb1/k", ip("10.9.9.9")), effectNone},
		{"prefix equals", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::pb1","Condition":{"StringEquals":{"s3:prefix":["docs/",""]}}}`),
			anon("listbucket", "pb1", map[string]string{"s3:prefix": "docs/"}), effectAllow},
		{"prefix absent", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::pb1","Condition":{"StringEquals":{"s3:prefix":"docs/"}}}`),
			anon("listbucket", "pb1", map[string]string{}), effectNone},
		{"prefix if exists", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::pb1","Condition":{"StringEqualsIfExists":{"s3:prefix":"docs/"}}}`),
			anon("listbucket", "pb1", map[string]string{}), effectAllow},
		{"not equals absent", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::pb1","Condition":{"StringNotEquals":{"s3:prefix":"secret/"}}}`),
			anon("listbucket", "pb1", map[string]string{}), effectAllow},
		{"not like", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::pb1","Condition":{"StringNotLike":{"s3:prefix":"secret/*"}}}`),
			anon("listbucket", "pb1", map[string]string{"s3:prefix": "secret/x"}), effectNone},
		{"max-keys", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::pb1","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}`),
			anon("listbucket", "pb1", map[string]string{"s3:max-keys": "11"}), effectNone},
		{"max-keys ok", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::pb1","Condition":{"NumericLessThanEquals":{"s3:max-keys":10}}}`),
			anon("listbucket", "pb1", map[string]string{"s3:max-keys": "10"}), effectAllow},
		{"secure transport", stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::pb1/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`),
			anon("getobject", "pb1/k", map[string]string{"aws:securetransport": "false"}), effectDeny},
		{"username", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::pb:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"StringEquals":{"aws:username":"bob"}}}`),
			user("pb", "bob", "getobject", "pb1/k", map[string]string{"aws:username": "bob"}), effectAllow},
		{"userid", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::pb:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"StringEquals":{"aws:userid":"u1"}}}`),
			user("pb", "bob", "getobject", "pb1/k", map[string]string{"aws:userid": "u2"}), effectNone},
		{"variable in resource", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::pb:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/home/${aws:username}/*"}`),
			user("pb", "bob", "getobject", "pb1/home/bob/f", map[string]string{"aws:username": "bob"}), effectAllow},
		{"variable other home", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::pb:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/home/${aws:username}/*"}`),
			user("pb", "bob", "getobject", "pb1/home/bea/f", map[string]string{"aws:username": "bob"}), effectNone},
		{"variable 2008 literal", `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/${aws:username}"}]}`,
			anon("getobject", "pb1/${aws:username}", map[string]string{"aws:username": "bob"}), effectAllow},
		{"null true", stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::pb1/*","Condition":{"Null":{"aws:username":"true"}}}`),
			anon("getobject", "pb1/k", map[string]string{}), effectDeny},
		{"for any value absent", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"ForAnyValue:StringEquals":{"aws:username":"bob"}}}`),
			anon("getobject", "pb1/k", map[string]string{}), effectNone},
		{"for all values absent", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"ForAllValues:StringEquals":{"aws:username":"bob"}}}`),
			anon("getobject", "pb1/k", map[string]string{}), effectAllow},
		{"date", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}`),
			anon("getobject", "pb1/k", map[string]string{"aws:currenttime": "2029-12-31T23:59:59Z"}), effectAllow},
		{"date after", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01"}}}`),
			anon("getobject", "pb1/k", map[string]string{"aws:currenttime": "2030-01-01T00:00:01Z"}), effectNone},
		{"two conditions both", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"StringLike":{"aws:UserAgent":"curl/*"}}}`),
			anon("getobject", "pb1/k", map[string]string{"aws:sourceip": "10.0.0.1", "aws:useragent": "wget/1"}), effectNone},
	}
	for _, c := range cases {
		if got := mustPolicy(t, c.policy).evaluate(c.q); got != c.want {
			t.Errorf("%s: evaluate = %d, want %d", c.name, got, c.want)
		}
	}
	var none *bucketPolicy
	if none.evaluate(anon("getobject", "pb1/k", nil)) != effectNone || none.isPublic() {
		t.Error("a missing policy grants or denies something")
	}
}

func TestPolicyIsPublic(t *testing.T) {
	cases := []struct {
		policy string
		want   bool
	}{
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`), true},
		{stmt(`{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::pb1"}`), true},
		{stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`), false},
		{stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::pb:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`), false},
		{stmt(`{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::pb:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*"}`), true},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`), false},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}`), true},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`), true},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"StringEquals":{"aws:SourceAccount":"123"}}}`), false},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"StringLike":{"aws:SourceAccount":"1*"}}}`), true},
	}
	for i, c := range cases {
		if got := mustPolicy(t, c.policy).isPublic(); got != c.want {
			t.Errorf("case %d: isPublic = %v, want %v\n%s", i, got, c.want, c.policy)
		}
	}
}

func TestWildMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*", "a", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false},
		{"?", "", false}, {"?", "é", true}, {"a?c*", "abcdef", true}, {"*/*", "dir/k", true}, {"*/*", "k", false},
		{"a**b", "ab", true}, {"x", "x", true}, {"x", "X", false}, {"*a*a*", "banana", true}, {"*ab", "aab", true},
	}
	for _, c := range cases {
		if got := wildMatch(c.pattern, c.s); got != c.want {
			t.Errorf("wildMatch(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}

func TestIAMAction(t *testing.T) {
	q := func(s string) map[string][]string {
		m := map[string][]string{}
		for _, kv := range strings.Split(s, "&") {
			if kv != "" {
				k, v, _ := strings.Cut(kv, "=")
				m[k] = append(m[k], v)
			}
		}
		return m
	}
	cases := []struct {
		method string
		object bool
		query  string
		want   string
	}{
		{"GET", false, "", "s3:ListBucket"}, {"GET", false, "list-type=2&prefix=a", "s3:ListBucket"},
		{"HEAD", false, "", "s3:ListBucket"}, {"GET", false, "policy", "s3:GetBucketPolicy"},
		{"GET", false, "policyStatus", "s3:GetBucketPolicyStatus"}, {"DELETE", false, "cors", "s3:PutBucketCORS"},
		{"PUT", false, "publicAccessBlock", "s3:PutBucketPublicAccessBlock"}, {"POST", false, "delete", ""},
		{"GET", true, "", "s3:GetObject"}, {"HEAD", true, "", "s3:GetObject"}, {"PUT", true, "", "s3:PutObject"},
		{"PUT", true, "partNumber=1&uploadId=x", "s3:PutObject"}, {"PUT", true, "acl", "s3:PutObjectAcl"},
		{"DELETE", true, "uploadId=x", "s3:AbortMultipartUpload"}, {"GET", true, "uploadId=x", "s3:ListMultipartUploadParts"},
		{"POST", true, "uploads", "s3:PutObject"}, {"DELETE", true, "tagging", "s3:DeleteObjectTagging"},
	}
	for _, c := range cases {
		if got := iamAction(c.method, c.object, q(c.query)); got != c.want {
			t.Errorf("%s object=%v ?%s: %q, want %q", c.method, c.object, c.query, got, c.want)
		}
		if c.want != "" && !validActionPattern(strings.ToLower(c.want)) {
			t.Errorf("%s is not a known action", c.want)
		}
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pb1/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`)))
	f.Add([]byte(`{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::p:user/u"]},"NotAction":"s3:*","NotResource":"arn:aws:s3:::pb1/${aws:username}"}}`))
	f.Add([]byte(`{"Version":"2012-10-17","Statement":[{"Condition":{"ForAllValues:NumericLessThanIfExists":{"s3:max-keys":[1,2]}}}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := parsePolicy(doc, polBucket, nil)
		if err != nil {
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != "MalformedPolicy" {
				t.Fatalf("error %v is not MalformedPolicy", err)
			}
			return
		}
		ctx := map[string]string{"aws:sourceip": "10.1.1.1", "aws:username": "u", "s3:max-keys": "1"}
		p.evaluate(accessQuery{anonymous: true, action: "getobject", resource: "pb1/u", ctx: ctx})
		p.evaluate(accessQuery{project: "p", user: "u", action: "listbucket", resource: "pb1", ctx: ctx})
		p.isPublic()
	})
}
