package s3

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Bucket policies: the JSON access policy language of IAM, as S3 accepts
// it on a bucket. A policy is parsed and validated once when it is put
// (parsePolicy with the bucket's name and a lookup of the principals it
// names) and parsed again, without the lookup, whenever a request is
// evaluated against it.
//
// Principals name Basalt's identities in AWS's form: a project is an
// account ("arn:aws:iam::<project id>:root", or its canonical user ID, the
// project ID), a user acting in a project is
// "arn:aws:iam::<project id>:user/<user name>", and "*" (or {"AWS": "*"})
// is anyone, the anonymous included. Service and federated principals are
// accepted and never match anyone here.
//
// Conditions: every operator of the policy language (String*, Numeric*,
// Date*, Bool, BinaryEquals, IpAddress, NotIpAddress, Arn*, Null, the
// ...IfExists forms and the ForAnyValue:/ForAllValues: qualifiers, which
// here meet single-valued keys only) over the keys of the request context
// built by conditionContext. Policy variables (${aws:username}, ...) are
// replaced in resources and condition values of a "2012-10-17" policy.

// maxPolicySize is the largest bucket policy S3 accepts, in bytes.
const maxPolicySize = 20 << 10

// Policy versions.
const (
	policyVersion2012 = "2012-10-17"
	policyVersion2008 = "2008-10-17"
)

// The messages of S3's MalformedPolicy answers.
const (
	msgPolicyInvalidJSON      = "This policy contains invalid Json"
	msgPolicyFirstByte        = "Policies must be valid JSON and the first byte must be '{'"
	msgPolicyTooLarge         = "Policy exceeds the maximum allowed document size."
	msgPolicyMissingStatement = "Missing required field Statement"
	msgPolicyEmptyStatement   = "Could not parse the policy: Statement is empty!"
	msgPolicyInvalidVersion   = "The policy must contain a valid version string"
	msgPolicyMissingEffect    = "Missing required field Effect"
	msgPolicyMissingPrincipal = "Missing required field Principal"
	msgPolicyMissingAction    = "Missing required field Action"
	msgPolicyMissingResource  = "Missing required field Resource"
	msgPolicyInvalidPrincipal = "Invalid principal in policy"
	msgPolicyInvalidAction    = "Policy has invalid action"
	msgPolicyInvalidResource  = "Policy has invalid resource"
	msgPolicyResourceMismatch = "Action does not apply to any resource(s) in statement"
	msgPolicyConditionKey     = "Policy has an invalid condition key"
	msgPolicyConditionAction  = "Conditions do not apply to combination of actions and resources in statement"
	msgPolicyConditionIP      = "Invalid IP address in Conditions"
	msgPolicyDuplicateSid     = "Statement IDs (SID) in a single policy must be unique."
)

// malformedPolicy is the MalformedPolicy error with one of the messages.
func malformedPolicy(msg string) *APIError { return ErrMalformedPolicy.withMessage(msg) }

// bucketPolicy is a parsed bucket policy.
type bucketPolicy struct {
	version    string
	statements []policyStatement
}

// policyStatement is one statement. Action patterns are lower case (action
// names are case-insensitive); resource patterns are what follows
// "arn:aws:s3:::" ("bucket" or "bucket/key-pattern").
type policyStatement struct {
	sid          string
	deny         bool
	principals   principalSet
	notPrincipal bool
	actions      []string
	notAction    bool
	resources    []string
	notResource  bool
	conditions   []policyCondition
}

// principalSet is the Principal (or NotPrincipal) of a statement.
type principalSet struct {
	anyone   bool
	projects []string    // project IDs: ":root" ARNs and canonical user IDs
	users    [][2]string // project ID and user name
}

// policyCondition is one key of one operator of a Condition block.
type policyCondition struct {
	op        string // the base operator: "StringEquals", "IpAddress", ...
	ifExists  bool
	qualifier string // "", "ForAnyValue" or "ForAllValues"
	key       string // lower case
	values    []string
}

// principalLookup tells whether a project exists, and with user != ""
// whether a user of that name may act in it. Nil accepts every name.
type principalLookup func(project, user string) bool

// parsePolicy parses and validates a bucket policy for bucket. With known
// set, every principal named must exist.
func parsePolicy(doc []byte, bucket string, known principalLookup) (*bucketPolicy, error) {
	if len(doc) > maxPolicySize {
		return nil, malformedPolicy(msgPolicyTooLarge)
	}
	trimmed := bytes.TrimLeft(doc, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, malformedPolicy(msgPolicyFirstByte)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, malformedPolicy(msgPolicyInvalidJSON)
	}
	p := &bucketPolicy{version: policyVersion2008}
	for name, raw := range top {
		switch name {
		case "Version":
			var v string
			if json.Unmarshal(raw, &v) != nil || (v != policyVersion2012 && v != policyVersion2008) {
				return nil, malformedPolicy(msgPolicyInvalidVersion)
			}
			p.version = v
		case "Id":
			var id string
			if json.Unmarshal(raw, &id) != nil {
				return nil, malformedPolicy(msgPolicyInvalidJSON)
			}
		case "Statement":
		default:
			return nil, malformedPolicy("Unknown field " + name)
		}
	}
	raw, ok := top["Statement"]
	if !ok || isJSONNull(raw) {
		return nil, malformedPolicy(msgPolicyMissingStatement)
	}
	var stmts []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		stmts = []json.RawMessage{raw}
	} else if err := json.Unmarshal(raw, &stmts); err != nil {
		return nil, malformedPolicy(msgPolicyInvalidJSON)
	}
	if len(stmts) == 0 {
		return nil, malformedPolicy(msgPolicyEmptyStatement)
	}
	sids := map[string]bool{}
	for _, sraw := range stmts {
		st, err := parseStatement(sraw, bucket, known)
		if err != nil {
			return nil, err
		}
		if st.sid != "" {
			if sids[st.sid] {
				return nil, malformedPolicy(msgPolicyDuplicateSid)
			}
			sids[st.sid] = true
		}
		p.statements = append(p.statements, st)
	}
	return p, nil
}

func isJSONNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func parseStatement(raw json.RawMessage, bucket string, known principalLookup) (policyStatement, error) {
	var st policyStatement
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return st, malformedPolicy(msgPolicyInvalidJSON)
	}
	for name := range fields {
		switch name {
		case "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition":
		default:
			return st, malformedPolicy("Unknown field " + name)
		}
	}
	if v, ok := fields["Sid"]; ok {
		if json.Unmarshal(v, &st.sid) != nil {
			return st, malformedPolicy(msgPolicyInvalidJSON)
		}
	}
	effect, ok := fields["Effect"]
	if !ok {
		return st, malformedPolicy(msgPolicyMissingEffect)
	}
	var e string
	if json.Unmarshal(effect, &e) != nil {
		return st, malformedPolicy(msgPolicyInvalidJSON)
	}
	switch e {
	case "Allow":
	case "Deny":
		st.deny = true
	default:
		return st, malformedPolicy("Invalid effect: " + e)
	}

	// Principal or NotPrincipal, exactly one.
	pr, hasP := fields["Principal"]
	npr, hasNP := fields["NotPrincipal"]
	switch {
	case !hasP && !hasNP:
		return st, malformedPolicy(msgPolicyMissingPrincipal)
	case hasP && hasNP:
		return st, malformedPolicy(msgPolicyInvalidPrincipal)
	case hasNP:
		st.notPrincipal, pr = true, npr
	}
	var err error
	if st.principals, err = parsePrincipal(pr, known); err != nil {
		return st, err
	}

	// Action or NotAction.
	ar, hasA := fields["Action"]
	nar, hasNA := fields["NotAction"]
	switch {
	case !hasA && !hasNA:
		return st, malformedPolicy(msgPolicyMissingAction)
	case hasA && hasNA:
		return st, malformedPolicy(msgPolicyInvalidAction)
	case hasNA:
		st.notAction, ar = true, nar
	}
	acts, ok := stringList(ar)
	if !ok || len(acts) == 0 {
		return st, malformedPolicy(msgPolicyInvalidAction)
	}
	for _, a := range acts {
		la := strings.ToLower(a)
		if !validActionPattern(la) {
			return st, malformedPolicy(msgPolicyInvalidAction)
		}
		st.actions = append(st.actions, la)
	}

	// Resource or NotResource.
	rr, hasR := fields["Resource"]
	nrr, hasNR := fields["NotResource"]
	switch {
	case !hasR && !hasNR:
		return st, malformedPolicy(msgPolicyMissingResource)
	case hasR && hasNR:
		return st, malformedPolicy(msgPolicyInvalidResource)
	case hasNR:
		st.notResource, rr = true, nrr
	}
	res, ok := stringList(rr)
	if !ok || len(res) == 0 {
		return st, malformedPolicy(msgPolicyInvalidResource)
	}
	for _, r := range res {
		rest, ok := strings.CutPrefix(r, "arn:aws:s3:::")
		if !ok {
			return st, malformedPolicy(msgPolicyInvalidResource)
		}
		b, _, _ := strings.Cut(rest, "/")
		if b != bucket {
			return st, malformedPolicy(msgPolicyInvalidResource)
		}
		st.resources = append(st.resources, rest)
	}
	if !st.notAction && !st.notResource && !actionsFitResources(st.actions, st.resources) {
		return st, malformedPolicy(msgPolicyResourceMismatch)
	}

	if c, ok := fields["Condition"]; ok && !isJSONNull(c) {
		if st.conditions, err = parseConditions(c, st); err != nil {
			return st, err
		}
	}
	return st, nil
}

// stringList decodes a string or an array of strings.
func stringList(raw json.RawMessage) ([]string, bool) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many, true
	}
	return nil, false
}

// scalarList decodes a string, number or boolean, or an array of them, as
// strings (condition values).
func scalarList(raw json.RawMessage) ([]string, bool) {
	conv := func(v any) (string, bool) {
		switch x := v.(type) {
		case string:
			return x, true
		case bool:
			return strconv.FormatBool(x), true
		case json.Number:
			return x.String(), true
		}
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	if arr, ok := v.([]any); ok {
		out := make([]string, 0, len(arr))
		for _, e := range arr {
			s, ok := conv(e)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	s, ok := conv(v)
	if !ok {
		return nil, false
	}
	return []string{s}, true
}

// parsePrincipal reads "*" or an object of principal types.
func parsePrincipal(raw json.RawMessage, known principalLookup) (principalSet, error) {
	var ps principalSet
	invalid := malformedPolicy(msgPolicyInvalidPrincipal)
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return ps, invalid
		}
		ps.anyone = true
		return ps, nil
	}
	var types map[string]json.RawMessage
	if json.Unmarshal(raw, &types) != nil || len(types) == 0 {
		return ps, invalid
	}
	for typ, v := range types {
		names, ok := stringList(v)
		if !ok || len(names) == 0 {
			return ps, invalid
		}
		switch typ {
		case "AWS":
			for _, n := range names {
				if n == "*" {
					ps.anyone = true
					continue
				}
				project, user, ok := parsePrincipalARN(n)
				if !ok || (known != nil && !known(project, user)) {
					return ps, invalid
				}
				if user == "" {
					ps.projects = append(ps.projects, project)
				} else {
					ps.users = append(ps.users, [2]string{project, user})
				}
			}
		case "CanonicalUser":
			for _, n := range names {
				if n == "" || strings.ContainsAny(n, "*?:/") || (known != nil && !known(n, "")) {
					return ps, invalid
				}
				ps.projects = append(ps.projects, n)
			}
		case "Service", "Federated":
			for _, n := range names {
				if n == "" || n == "*" {
					return ps, invalid
				}
			}
		default:
			return ps, invalid
		}
	}
	return ps, nil
}

// parsePrincipalARN reads "arn:aws:iam::<project>:root",
// "arn:aws:iam::<project>:user/<name>" or a bare project ID.
func parsePrincipalARN(s string) (project, user string, ok bool) {
	rest, isARN := strings.CutPrefix(s, "arn:aws:iam::")
	if !isARN {
		if s == "" || strings.ContainsAny(s, "*?:/") {
			return "", "", false
		}
		return s, "", true
	}
	project, res, found := strings.Cut(rest, ":")
	if !found || project == "" || strings.ContainsAny(project, "*?/") {
		return "", "", false
	}
	if res == "root" {
		return project, "", true
	}
	name, isUser := strings.CutPrefix(res, "user/")
	if !isUser || name == "" || strings.ContainsAny(name, "*?/:") {
		return "", "", false
	}
	return project, name, true
}

// validActionPattern accepts "*" and "s3:<name>" where name is an S3
// action or a wildcard pattern matching at least one.
func validActionPattern(a string) bool {
	if a == "*" {
		return true
	}
	name, ok := strings.CutPrefix(a, "s3:")
	if !ok || name == "" {
		return false
	}
	if !strings.ContainsAny(name, "*?") {
		_, known := s3Actions[name]
		return known
	}
	for act := range s3Actions {
		if wildMatch(name, act) {
			return true
		}
	}
	return false
}

// actionsFitResources reports whether every action applies to a resource
// of the statement: object actions need an object resource
// ("bucket/..."), bucket actions the bucket itself. A pattern fits when
// any action it matches does.
func actionsFitResources(actions, resources []string) bool {
	hasObject, hasBucket := false, false
	for _, r := range resources {
		if strings.Contains(r, "/") {
			hasObject = true
		} else {
			hasBucket = true
		}
	}
	fits := func(kind actionKind) bool {
		return kind == objectAction && hasObject || kind == bucketAction && hasBucket
	}
	for _, a := range actions {
		if a == "*" || a == "s3:*" {
			continue
		}
		name := strings.TrimPrefix(a, "s3:")
		if !strings.ContainsAny(name, "*?") {
			if !fits(s3Actions[name]) {
				return false
			}
			continue
		}
		ok := false
		for act, kind := range s3Actions {
			if wildMatch(name, act) && fits(kind) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// conditionOperators are the base operators of the policy language, and
// whether each is a negation (true when the key is absent).
var conditionOperators = map[string]bool{
	"StringEquals": false, "StringNotEquals": true, "StringEqualsIgnoreCase": false,
	"StringNotEqualsIgnoreCase": true, "StringLike": false, "StringNotLike": true,
	"NumericEquals": false, "NumericNotEquals": true, "NumericLessThan": false,
	"NumericLessThanEquals": false, "NumericGreaterThan": false, "NumericGreaterThanEquals": false,
	"DateEquals": false, "DateNotEquals": true, "DateLessThan": false, "DateLessThanEquals": false,
	"DateGreaterThan": false, "DateGreaterThanEquals": false,
	"Bool": false, "BinaryEquals": false, "IpAddress": false, "NotIpAddress": true,
	"ArnEquals": false, "ArnLike": false, "ArnNotEquals": true, "ArnNotLike": true,
	"Null": false,
}

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its parts.
func parseOperator(name string) (op, qualifier string, ifExists, ok bool) {
	if q, rest, found := strings.Cut(name, ":"); found {
		if q != "ForAnyValue" && q != "ForAllValues" {
			return "", "", false, false
		}
		qualifier, name = q, rest
	}
	if base, found := strings.CutSuffix(name, "IfExists"); found && base != "Null" {
		name, ifExists = base, true
	}
	if _, known := conditionOperators[name]; !known {
		return "", "", false, false
	}
	return name, qualifier, ifExists, true
}

func parseConditions(raw json.RawMessage, st policyStatement) ([]policyCondition, error) {
	var block map[string]json.RawMessage
	if json.Unmarshal(raw, &block) != nil {
		return nil, malformedPolicy(msgPolicyInvalidJSON)
	}
	var out []policyCondition
	for opName, kraw := range block {
		op, qualifier, ifExists, ok := parseOperator(opName)
		if !ok {
			return nil, malformedPolicy("Invalid Condition type : " + opName)
		}
		var keys map[string]json.RawMessage
		if json.Unmarshal(kraw, &keys) != nil {
			return nil, malformedPolicy(msgPolicyInvalidJSON)
		}
		for key, vraw := range keys {
			lk := strings.ToLower(key)
			rule, known := conditionKeyRule(lk)
			if !known {
				return nil, malformedPolicy(msgPolicyConditionKey)
			}
			if !st.notAction && rule != nil {
				for _, a := range st.actions {
					if !strings.ContainsAny(a, "*?") && !rule(strings.TrimPrefix(a, "s3:")) {
						return nil, malformedPolicy(msgPolicyConditionAction)
					}
				}
			}
			values, ok := scalarList(vraw)
			if !ok {
				return nil, malformedPolicy(msgPolicyInvalidJSON)
			}
			if lk == "aws:sourceip" && (op == "IpAddress" || op == "NotIpAddress") {
				for _, v := range values {
					if _, ok := parseIPOrPrefix(v); !ok {
						return nil, malformedPolicy(msgPolicyConditionIP)
					}
				}
			}
			out = append(out, policyCondition{op: op, ifExists: ifExists, qualifier: qualifier, key: lk, values: values})
		}
	}
	return out, nil
}

// conditionKeyRule tells whether a condition key (lower case) is known,
// and for the keys that S3 restricts to some actions, which (nil: any).
func conditionKeyRule(key string) (func(action string) bool, bool) {
	if strings.HasPrefix(key, "aws:") {
		return nil, len(key) > len("aws:")
	}
	switch key {
	case "s3:prefix", "s3:delimiter", "s3:max-keys":
		return func(a string) bool { return a == "listbucket" || a == "listbucketversions" }, true
	case "s3:x-amz-acl", "s3:x-amz-grant-read", "s3:x-amz-grant-write", "s3:x-amz-grant-read-acp",
		"s3:x-amz-grant-write-acp", "s3:x-amz-grant-full-control":
		return func(a string) bool { return a == "putobject" || a == "putobjectacl" || a == "putbucketacl" }, true
	case "s3:x-amz-copy-source", "s3:x-amz-metadata-directive":
		return func(a string) bool { return a == "putobject" }, true
	case "s3:versionid":
		return func(a string) bool { return strings.Contains(a, "version") }, true
	case "s3:authtype", "s3:signatureage", "s3:signatureversion", "s3:tlsversion", "s3:x-amz-content-sha256",
		"s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id",
		"s3:x-amz-storage-class", "s3:x-amz-object-ownership", "s3:locationconstraint",
		"s3:resourceaccount", "s3:requestobjecttagkeys", "s3:if-match", "s3:if-none-match",
		"s3:object-lock-mode", "s3:object-lock-retain-until-date", "s3:object-lock-remaining-retention-days",
		"s3:object-lock-legal-hold", "s3:accesspointnetworkorigin", "s3:dataaccesspointaccount",
		"s3:dataaccesspointarn":
		return nil, true
	}
	if strings.HasPrefix(key, "s3:existingobjecttag/") || strings.HasPrefix(key, "s3:requestobjecttag/") {
		return nil, true
	}
	return nil, false
}

// policyEffect is the outcome of evaluating a policy for one request.
type policyEffect int

const (
	effectNone policyEffect = iota
	effectAllow
	effectDeny
)

// accessQuery is what a policy is evaluated for: who, which action (its
// name without "s3:", lower case), which resource ("bucket" or
// "bucket/key") and the condition context (lower-case keys).
type accessQuery struct {
	anonymous bool
	project   string
	user      string
	action    string
	resource  string
	ctx       map[string]string
}

// evaluate returns effectDeny when a Deny statement applies, else
// effectAllow when an Allow does, else effectNone.
func (p *bucketPolicy) evaluate(q accessQuery) policyEffect {
	if p == nil {
		return effectNone
	}
	out := effectNone
	for i := range p.statements {
		st := &p.statements[i]
		if !st.applies(q, p.version) {
			continue
		}
		if st.deny {
			return effectDeny
		}
		out = effectAllow
	}
	return out
}

func (st *policyStatement) applies(q accessQuery, version string) bool {
	if st.principals.matches(q) == st.notPrincipal {
		return false
	}
	if st.matchesAction(q.action) == st.notAction {
		return false
	}
	if st.matchesResource(q, version) == st.notResource {
		return false
	}
	for _, c := range st.conditions {
		if !c.holds(q.ctx, version) {
			return false
		}
	}
	return true
}

func (ps principalSet) matches(q accessQuery) bool {
	if ps.anyone {
		return true
	}
	if q.anonymous || q.project == "" {
		return false
	}
	for _, p := range ps.projects {
		if p == q.project {
			return true
		}
	}
	for _, u := range ps.users {
		if u[0] == q.project && u[1] == q.user {
			return true
		}
	}
	return false
}

func (st *policyStatement) matchesAction(action string) bool {
	for _, a := range st.actions {
		if a == "*" || wildMatch(strings.TrimPrefix(a, "s3:"), action) {
			return true
		}
	}
	return false
}

func (st *policyStatement) matchesResource(q accessQuery, version string) bool {
	for _, r := range st.resources {
		pattern, ok := substituteVariables(r, q.ctx, version)
		if ok && wildMatch(pattern, q.resource) {
			return true
		}
	}
	return false
}

// substituteVariables replaces the policy variables of a "2012-10-17"
// policy: ${key} by the context's value (failing when it is absent),
// ${*}, ${?} and ${$} by the character.
func substituteVariables(s string, ctx map[string]string, version string) (string, bool) {
	if version != policyVersion2012 || !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		name := s[i+2 : i+j]
		switch name {
		case "*", "?", "$":
			b.WriteString(name)
		default:
			v, ok := ctx[strings.ToLower(name)]
			if !ok {
				return "", false
			}
			b.WriteString(v)
		}
		s = s[i+j+1:]
	}
}

// holds evaluates one condition key against the context.
func (c policyCondition) holds(ctx map[string]string, version string) bool {
	v, present := ctx[c.key]
	if c.op == "Null" {
		want := len(c.values) > 0 && strings.EqualFold(c.values[0], "true")
		return want != present
	}
	if !present {
		switch {
		case c.ifExists:
			return true
		case c.qualifier == "ForAllValues":
			return true
		case c.qualifier == "ForAnyValue":
			return false
		}
		return conditionOperators[c.op]
	}
	negated := conditionOperators[c.op]
	for _, want := range c.values {
		want, ok := substituteVariables(want, ctx, version)
		if !ok {
			continue
		}
		if matchValue(c.op, v, want) {
			// A negated operator holds only when no value matches.
			return !negated
		}
	}
	return negated
}

// matchValue compares a context value with one policy value; for negated
// operators it reports the positive match (equal, like, in range).
func matchValue(op, got, want string) bool {
	switch op {
	case "StringEquals", "StringNotEquals":
		return got == want
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		return strings.EqualFold(got, want)
	case "StringLike", "StringNotLike":
		return wildMatch(want, got)
	case "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike":
		return wildMatch(want, got)
	case "Bool":
		return strings.EqualFold(got, want)
	case "BinaryEquals":
		return got == want
	case "IpAddress", "NotIpAddress":
		addr, err := netip.ParseAddr(got)
		if err != nil {
			return false
		}
		prefix, ok := parseIPOrPrefix(want)
		return ok && prefix.Contains(addr.Unmap())
	case "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
		"NumericGreaterThan", "NumericGreaterThanEquals":
		g, err1 := strconv.ParseFloat(got, 64)
		w, err2 := strconv.ParseFloat(want, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		return compareOrdered(op, g, w)
	case "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals",
		"DateGreaterThan", "DateGreaterThanEquals":
		g, ok1 := parsePolicyDate(got)
		w, ok2 := parsePolicyDate(want)
		if !ok1 || !ok2 {
			return false
		}
		return compareOrdered(op, float64(g.UnixNano()), float64(w.UnixNano()))
	}
	return false
}

func compareOrdered(op string, g, w float64) bool {
	switch {
	case strings.HasSuffix(op, "LessThanEquals"):
		return g <= w
	case strings.HasSuffix(op, "LessThan"):
		return g < w
	case strings.HasSuffix(op, "GreaterThanEquals"):
		return g >= w
	case strings.HasSuffix(op, "GreaterThan"):
		return g > w
	}
	return g == w // Equals and NotEquals, whose negation the caller applies
}

// parsePolicyDate reads an ISO 8601 date or time, or seconds since the
// epoch.
func parsePolicyDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

// parseIPOrPrefix reads an address or a CIDR block; an address is a block
// of one. IPv4-mapped IPv6 forms become IPv4.
func parseIPOrPrefix(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked(), true
		}
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}

// isPublic reports whether the policy grants public access, as S3 judges
// it: an Allow to anyone (Principal "*", or any NotPrincipal) that no
// condition ties to fixed values (aws:SourceIp blocks, or fixed
// aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner,
// aws:SourceAccount, aws:userid, s3:x-amz-server-side-encryption-aws-kms-key-id).
func (p *bucketPolicy) isPublic() bool {
	if p == nil {
		return false
	}
	for _, st := range p.statements {
		if st.deny || !(st.principals.anyone || st.notPrincipal) {
			continue
		}
		if !st.fixedByCondition() {
			return true
		}
	}
	return false
}

func (st *policyStatement) fixedByCondition() bool {
	for _, c := range st.conditions {
		if c.ifExists || c.qualifier != "" || len(c.values) == 0 {
			continue
		}
		switch c.key {
		case "aws:sourceip":
			if c.op != "IpAddress" {
				continue
			}
			fixed := true
			for _, v := range c.values {
				if p, ok := parseIPOrPrefix(v); !ok || p.Bits() == 0 {
					fixed = false
				}
			}
			if fixed {
				return true
			}
		case "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceowner", "aws:sourceaccount",
			"aws:userid", "s3:x-amz-server-side-encryption-aws-kms-key-id":
			if c.op != "StringEquals" && c.op != "ArnEquals" && c.op != "StringLike" && c.op != "ArnLike" {
				continue
			}
			fixed := true
			for _, v := range c.values {
				if strings.ContainsAny(v, "*?") {
					fixed = false
				}
			}
			if fixed {
				return true
			}
		}
	}
	return false
}

// wildMatch matches s against a pattern where "*" is any run of
// characters and "?" any one character.
func wildMatch(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == s
	}
	p, str := 0, 0
	star, mark := -1, 0
	for str < len(s) {
		pr, pw := utf8.RuneError, 0
		if p < len(pattern) {
			pr, pw = utf8.DecodeRuneInString(pattern[p:])
		}
		sr, sw := utf8.DecodeRuneInString(s[str:])
		switch {
		case p < len(pattern) && (pr == '?' || pr == sr && pr != '*'):
			p += pw
			str += sw
		case p < len(pattern) && pr == '*':
			star, mark = p, str
			p += pw
		case star >= 0:
			_, mw := utf8.DecodeRuneInString(s[mark:])
			mark += mw
			str = mark
			p = star + 1
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// actionKind says which resources an S3 action applies to.
type actionKind int

const (
	accountAction actionKind = iota // applies to no bucket resource
	bucketAction
	objectAction
)

// s3Actions are the S3 actions (lower case, without "s3:") a bucket
// policy may name, with the kind of resource each applies to.
var s3Actions = func() map[string]actionKind {
	m := map[string]actionKind{}
	for _, a := range []string{
		"AbortMultipartUpload", "BypassGovernanceRetention", "DeleteObject", "DeleteObjectTagging",
		"DeleteObjectVersion", "DeleteObjectVersionTagging", "GetObject", "GetObjectAcl",
		"GetObjectAttributes", "GetObjectLegalHold", "GetObjectRetention", "GetObjectTagging",
		"GetObjectTorrent", "GetObjectVersion", "GetObjectVersionAcl", "GetObjectVersionAttributes",
		"GetObjectVersionForReplication", "GetObjectVersionTagging", "GetObjectVersionTorrent",
		"ListMultipartUploadParts", "ObjectOwnerOverrideToBucketOwner", "PutObject", "PutObjectAcl",
		"PutObjectLegalHold", "PutObjectRetention", "PutObjectTagging", "PutObjectVersionAcl",
		"PutObjectVersionTagging", "ReplicateDelete", "ReplicateObject", "ReplicateTags", "RestoreObject",
	} {
		m[strings.ToLower(a)] = objectAction
	}
	for _, a := range []string{
		"CreateBucket", "DeleteBucket", "DeleteBucketOwnershipControls", "DeleteBucketPolicy",
		"DeleteBucketWebsite", "GetAccelerateConfiguration", "GetAnalyticsConfiguration", "GetBucketAcl",
		"GetBucketCORS", "GetBucketLocation", "GetBucketLogging", "GetBucketNotification",
		"GetBucketObjectLockConfiguration", "GetBucketOwnershipControls", "GetBucketPolicy",
		"GetBucketPolicyStatus", "GetBucketPublicAccessBlock", "GetBucketRequestPayment",
		"GetBucketTagging", "GetBucketVersioning", "GetBucketWebsite", "GetEncryptionConfiguration",
		"GetIntelligentTieringConfiguration", "GetInventoryConfiguration", "GetLifecycleConfiguration",
		"GetMetricsConfiguration", "GetReplicationConfiguration", "ListBucket", "ListBucketMultipartUploads",
		"ListBucketVersions", "PutAccelerateConfiguration", "PutAnalyticsConfiguration", "PutBucketAcl",
		"PutBucketCORS", "PutBucketLogging", "PutBucketNotification", "PutBucketObjectLockConfiguration",
		"PutBucketOwnershipControls", "PutBucketPolicy", "PutBucketPublicAccessBlock",
		"PutBucketRequestPayment", "PutBucketTagging", "PutBucketVersioning", "PutBucketWebsite",
		"PutEncryptionConfiguration", "PutIntelligentTieringConfiguration", "PutInventoryConfiguration",
		"PutLifecycleConfiguration", "PutMetricsConfiguration", "PutReplicationConfiguration",
	} {
		m[strings.ToLower(a)] = bucketAction
	}
	for _, a := range []string{"ListAllMyBuckets", "GetAccountPublicAccessBlock", "PutAccountPublicAccessBlock"} {
		m[strings.ToLower(a)] = accountAction
	}
	return m
}()
