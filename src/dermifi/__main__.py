from dermifi.cli import app

app(prog_name="dermifi")
