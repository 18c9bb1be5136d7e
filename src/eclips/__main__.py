from eclips.cli.main import app

app(prog_name="eclips")
