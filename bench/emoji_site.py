#!/usr/bin/env python3
"""Builds a keyword site from real emoji images for the end-to-end benchmark (bench/emoji_e2e.sh).

Input: the npm packages emoji-datasource, emoji-datasource-google and emoji-datasource-twitter
(16.0.0), unpacked (scripts/fetch-emoji.sh does it). Output, in SITE_DIR:

  s/<keyword>-1.html   a search result page per keyword (the emoji's first short name) listing
                       that emoji's images in both vendors and every skin tone, by relative URL
  img/<vendor>/<file>  the 64x64 PNGs
  pipeline.toml        classes = emoji categories, keywords = short names, one search source
  groups.csv           url,group: every image of one base emoji (vendor, skin tone) shares a
                       group, so `memes label group` can keep them on one side of the split

Standard library only: runs under any python3.
"""
import argparse
import json
import os
import shutil
import sys
import urllib.parse


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emoji-dir", required=True,
                        help="folder holding the three unpacked packages")
    parser.add_argument("--site", required=True, help="output folder")
    parser.add_argument("--port", type=int, required=True, help="port the site will be served on")
    parser.add_argument("--store", default="store", help="store path written into pipeline.toml")
    parser.add_argument("--limit", type=int, default=0, help="at most this many emoji (0: all)")
    args = parser.parse_args()

    root = args.emoji_dir
    meta = os.path.join(root, "emoji-datasource-16.0.0", "package", "emoji.json")
    vendors = {
        "google": os.path.join(root, "emoji-datasource-google-16.0.0", "package", "img", "google", "64"),
        "twitter": os.path.join(root, "emoji-datasource-twitter-16.0.0", "package", "img", "twitter", "64"),
    }
    with open(meta, encoding="utf-8") as f:
        emoji = json.load(f)
    emoji = [e for e in emoji if e["category"] != "Component"]
    emoji.sort(key=lambda e: (e["category"], e["sort_order"]))
    if args.limit:
        emoji = emoji[: args.limit]

    os.makedirs(os.path.join(args.site, "s"), exist_ok=True)
    classes = {}
    groups = []
    base_url = f"http://127.0.0.1:{args.port}"
    images = 0
    for e in emoji:
        keyword = e["short_names"][0]
        category = e["category"].lower().replace(" & ", "_and_").replace(" ", "_")
        classes.setdefault(category, []).append(keyword)
        files = [e["image"]] + [v["image"] for v in (e.get("skin_variations") or {}).values()]
        links = []
        for vendor, folder in vendors.items():
            os.makedirs(os.path.join(args.site, "img", vendor), exist_ok=True)
            for name in files:
                source = os.path.join(folder, name)
                if not os.path.exists(source):
                    continue
                shutil.copyfile(source, os.path.join(args.site, "img", vendor, name))
                links.append(f"../img/{vendor}/{name}")
                groups.append((f"{base_url}/img/{vendor}/{name}", e["unified"].lower()))
                images += 1
        page = os.path.join(args.site, "s", f"{keyword}-1.html")
        with open(page, "w", encoding="utf-8") as f:
            f.write(f"<!doctype html><meta charset=utf-8><title>{keyword}</title><ul>")
            for link in links:
                f.write(f'<li><img src="{link}" alt="{keyword}"></li>')
            f.write("</ul>")

    with open(os.path.join(args.site, "groups.csv"), "w", encoding="utf-8") as f:
        f.write("url,group\n")
        for url, group in groups:
            f.write(f"{url},{group}\n")

    def toml_string(text):
        return json.dumps(text, ensure_ascii=False)

    with open(os.path.join(args.site, "pipeline.toml"), "w", encoding="utf-8") as f:
        f.write(f"store = {toml_string(args.store)}\n\n[image]\nsize = 32\nfit = \"pad\"\n\n")
        f.write("[politeness]\nmax_transfers = 64\nper_host_transfers = 64\n"
                "per_host_rate = 100000.0\nper_host_burst = 1000\nobey_robots = false\n\n")
        f.write("[classes]\n")
        for name, keywords in classes.items():
            f.write(f"{name} = [{', '.join(toml_string(k) for k in keywords)}]\n")
        f.write("\n[[sources]]\nkind = \"search\"\nname = \"emoji-site\"\n")
        f.write(f"url = \"{base_url}/s/{{keyword}}-{{page}}.html\"\npages = 1\nextract = \"html\"\n")
    print(f"emoji site: {len(emoji)} emoji, {images} images, {len(classes)} classes in {args.site}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
