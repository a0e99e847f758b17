// Package content embeds askpa's default knowledge base: the Markdown
// documents, topics.yaml and synonyms.txt in this directory. askpa uses it
// when no content directory is found on disk.
package content

import "embed"

// FS holds the knowledge base, rooted at this directory.
//
//go:embed topics.yaml synonyms.txt */*.md
var FS embed.FS
