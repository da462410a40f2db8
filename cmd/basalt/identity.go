package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/basaltstore/basalt/proxy"
	"github.com/basaltstore/basalt/proxy/adminapi"
)

// newIdentityCmds returns `basalt admin project|user|role|key`, which
// manage the catalog's identity records through the administration API.
func newIdentityCmds(stdout io.Writer, f *adminFlags, client func() (*adminapi.Client, error)) []*cobra.Command {
	var domain string
	call := func(cmd *cobra.Command, method, op string, q url.Values, in, out any) error {
		c, err := client()
		if err != nil {
			return err
		}
		if q == nil {
			q = url.Values{}
		}
		if domain != "" {
			q.Set("domain", domain)
		}
		return c.Call(cmd.Context(), method, "identity/"+op, q, in, out)
	}
	show := func(v any, header string, row func(w io.Writer)) error {
		if f.jsonOut {
			return json.NewEncoder(stdout).Encode(v)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, header)
		row(w)
		return w.Flush()
	}
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	group := func(use, short string, subs ...*cobra.Command) *cobra.Command {
		c := &cobra.Command{Use: use, Short: short, Args: noArgs, RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
		c.PersistentFlags().StringVar(&domain, "domain", "", "domain of the names given (default: the default domain)")
		c.AddCommand(subs...)
		return c
	}
	listCmd := func(op string, out any, header string, row func(w io.Writer)) *cobra.Command {
		return &cobra.Command{Use: "list", Short: "List them", Args: noArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			if err := call(cmd, http.MethodGet, op, nil, nil, out); err != nil {
				return err
			}
			return show(out, header, row)
		}}
	}

	var domains []struct{ ID, Name string }
	domainCmd := group("domain", "Create and list domains (namespaces of projects and users)",
		&cobra.Command{Use: "create NAME", Short: "Create a domain", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, a []string) error {
			var d struct{ ID, Name string }
			if err := call(cmd, http.MethodPost, "domains", q("name", a[0]), nil, &d); err != nil {
				return err
			}
			return show(d, "ID\tNAME", func(w io.Writer) { fmt.Fprintf(w, "%s\t%s\n", d.ID, d.Name) })
		}},
		listCmd("domains", &domains, "ID\tNAME", func(w io.Writer) {
			for _, d := range domains {
				fmt.Fprintf(w, "%s\t%s\n", d.ID, d.Name)
			}
		}),
	)

	var projects []proxy.ProjectInfo
	project := group("project", "Create, list and delete projects (they own buckets and Swift accounts)",
		&cobra.Command{Use: "create NAME", Short: "Create a project", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, a []string) error {
			var p proxy.ProjectInfo
			if err := call(cmd, http.MethodPost, "projects", q("name", a[0]), nil, &p); err != nil {
				return err
			}
			return show(p, "ID\tNAME", func(w io.Writer) { fmt.Fprintf(w, "%s\t%s\n", p.ID, p.Name) })
		}},
		listCmd("projects", &projects, "ID\tNAME\tDOMAIN\tBUCKETS", func(w io.Writer) {
			for _, p := range projects {
				fmt.Fprintf(w, "%s\t%s\t%s\t%d\n", p.ID, p.Name, p.Domain, p.Buckets)
			}
		}),
		&cobra.Command{Use: "delete NAME", Short: "Delete a project that owns no bucket", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, a []string) error {
			return call(cmd, http.MethodDelete, "projects", q("name", a[0]), nil, nil)
		}},
	)

	var users []proxy.UserInfo
	var password, userProject string
	create := &cobra.Command{Use: "create NAME", Short: "Create a user (or set its password)", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, a []string) error {
		var u proxy.UserInfo
		in := map[string]string{"Name": a[0], "Password": password, "Project": userProject}
		if err := call(cmd, http.MethodPost, "users", nil, in, &u); err != nil {
			return err
		}
		return show(u, "ID\tNAME", func(w io.Writer) { fmt.Fprintf(w, "%s\t%s\n", u.ID, u.Name) })
	}}
	create.Flags().StringVar(&password, "password", "", "the user's password (required)")
	create.Flags().StringVar(&userProject, "project", "", "the user's default project")
	user := group("user", "Create, list and delete users",
		create,
		listCmd("users", &users, "ID\tNAME\tDOMAIN\tDEFAULT PROJECT", func(w io.Writer) {
			for _, u := range users {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", u.ID, u.Name, u.Domain, u.DefaultProject)
			}
		}),
		&cobra.Command{Use: "delete NAME", Short: "Delete a user with its roles and keys", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, a []string) error {
			return call(cmd, http.MethodDelete, "users", q("name", a[0]), nil, nil)
		}},
	)

	var roles []proxy.RoleInfo
	roleChange := func(use, short, method string) *cobra.Command {
		return &cobra.Command{Use: use + " USER PROJECT ROLE", Short: short, Args: cobra.ExactArgs(3), RunE: func(cmd *cobra.Command, a []string) error {
			return call(cmd, method, "roles", q("user", a[0], "project", a[1], "role", a[2]), nil, nil)
		}}
	}
	role := group("role", "Give and take roles (admin, member, reader) on projects",
		roleChange("add", "Give USER the ROLE (admin, member or reader) on PROJECT", http.MethodPost),
		roleChange("remove", "Take the ROLE on PROJECT away from USER", http.MethodDelete),
		listCmd("roles", &roles, "USER\tPROJECT\tROLE", func(w io.Writer) {
			for _, r := range roles {
				fmt.Fprintf(w, "%s\t%s\t%s\n", r.User, r.Project, r.Role)
			}
		}),
	)

	var keys []proxy.KeyInfo
	var keyUser string
	keyList := &cobra.Command{Use: "list", Short: "List access keys (never their secrets)", Args: noArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		if err := call(cmd, http.MethodGet, "keys", q("user", keyUser), nil, &keys); err != nil {
			return err
		}
		return show(keys, "ACCESS KEY\tUSER\tPROJECT\tCREATED", func(w io.Writer) {
			for _, k := range keys {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.AccessKey, k.User, k.Project, k.Created.Format("2006-01-02 15:04"))
			}
		})
	}}
	keyList.Flags().StringVar(&keyUser, "user", "", "only this user's keys")
	key := group("key", "Make, list and delete S3 access keys of a user in a project",
		&cobra.Command{Use: "create USER PROJECT", Short: "Make an access key (its secret is shown this once)", Args: cobra.ExactArgs(2), RunE: func(cmd *cobra.Command, a []string) error {
			var k proxy.KeyInfo
			if err := call(cmd, http.MethodPost, "keys", q("user", a[0], "project", a[1]), nil, &k); err != nil {
				return err
			}
			return show(k, "ACCESS KEY\tSECRET KEY\tUSER\tPROJECT", func(w io.Writer) {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.AccessKey, k.SecretKey, k.User, k.Project)
			})
		}},
		keyList,
		&cobra.Command{Use: "delete ACCESS_KEY", Short: "Delete an access key", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, a []string) error {
			return call(cmd, http.MethodDelete, "keys", q("access_key", a[0]), nil, nil)
		}},
	)
	return []*cobra.Command{domainCmd, project, user, role, key}
}
