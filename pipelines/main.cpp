#include "pipelines/cli.h"

int main(int argc, char** argv) { return memes::pipelines::RunCli(argc, argv); }
